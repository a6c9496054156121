"""A sequence: its info (name, fps, size, length), its frames, detections and ground truth.

Sources that are a sequence:
- a MOTChallenge folder with ``seqinfo.ini`` (+ ``img1/``, ``det/det.txt``, ``gt/gt.txt``);
- a folder holding a video file plus ``seqinfo.ini`` and/or ``gt/`` (frames come from the video);
- a folder of ``<seq>/gt.txt`` style (no seqinfo): info is inferred from the files;
- a plain video file or a plain image folder (OpenCV), with no detections or GT.
"""
from __future__ import annotations

import configparser
import math
import warnings
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from ..errors import InputError, check_name, read_user_text
from . import motio
from .schema import DET_COLUMNS, empty

VIDEO_EXTS = (".avi", ".mp4", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")
IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp")
SEQINFO_KEYS = ("name", "frameRate", "seqLength", "imWidth", "imHeight")


@dataclass(frozen=True)
class SeqInfo:
    name: str
    fps: float
    width: int
    height: int
    length: int
    im_dir: str = "img1"
    im_ext: str = ".jpg"

    def to_ini(self) -> str:
        return ("[Sequence]\n"
                f"name={self.name}\nimDir={self.im_dir}\nframeRate={self.fps:g}\nseqLength={self.length}\n"
                f"imWidth={self.width}\nimHeight={self.height}\nimExt={self.im_ext}\n")


def read_seqinfo(path: str | Path) -> SeqInfo:
    """Parse ``seqinfo.ini``. A missing key or a bad value names the file (and the line if known)."""
    path = Path(path)
    text = read_user_text(path, "seqinfo")
    cp = configparser.ConfigParser(interpolation=None)
    cp.optionxform = str  # keys are camelCase
    try:
        cp.read_string(text if "[" in text else "[Sequence]\n" + text)
    except configparser.Error as e:
        line = getattr(e, "lineno", None)
        raise InputError(path, f"not a valid ini file ({type(e).__name__})", line) from None
    sec = cp["Sequence"] if cp.has_section("Sequence") else None
    if sec is None:
        raise InputError(path, "missing [Sequence] section")
    lines = text.splitlines()

    def lineof(key: str) -> int | None:
        for i, l in enumerate(lines, 1):
            if l.strip().split("=")[0].strip() == key:
                return i
        return None

    for key in SEQINFO_KEYS:
        if key not in sec:
            raise InputError(path, f"missing key '{key}' in [Sequence]")

    def num(key: str, kind):
        raw = sec[key].strip()
        try:
            v = float(raw)
        except ValueError:
            raise InputError(path, f"'{key}' is not a number: {raw!r}", lineof(key)) from None
        if kind is int:
            if not math.isfinite(v) or v != int(v):
                raise InputError(path, f"'{key}' must be an integer, found {raw!r}", lineof(key))
            v = int(v)
        elif not math.isfinite(v):
            raise InputError(path, f"'{key}' must be finite, found {raw!r}", lineof(key))
        if not v > 0:
            raise InputError(path, f"'{key}' must be positive, found {raw}", lineof(key))
        return v

    name = check_name(sec["name"].strip(), path, lineof("name"))
    return SeqInfo(name=name, fps=num("frameRate", float), width=num("imWidth", int),
                   height=num("imHeight", int), length=num("seqLength", int),
                   im_dir=sec.get("imDir", "img1").strip(), im_ext=sec.get("imExt", ".jpg").strip())


def _find_video(folder: Path) -> Path | None:
    vids = sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_EXTS and p.is_file())
    return vids[0] if vids else None


def _list_images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTS and p.is_file())


def frame_numbers(images: list[Path]) -> dict[int, Path] | None:
    """Frame number -> image, from the file names (``000001.jpg`` is frame 1; a folder numbered
    from 0 is shifted to start at 1). None when the names are not all numbers: then the sorted
    order gives the frames."""
    nums = []
    for p in images:
        stem = p.stem
        if not stem.isdigit():
            return None
        nums.append(int(stem))
    if not nums or len(set(nums)) != len(nums):
        return None
    shift = 1 if min(nums) == 0 else 0
    return {n + shift: p for n, p in zip(nums, images)}


def _truncated_jpeg(path: Path) -> bool:
    """A JPEG without its end-of-image marker (cut short); libjpeg decodes it with grey at the bottom."""
    if path.suffix.lower() not in (".jpg", ".jpeg"):
        return False
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - 64))
            tail = f.read().rstrip(b"\x00\r\n ")
    except OSError:
        return False
    return not tail.endswith(b"\xff\xd9")


def probe_video(path: str | Path) -> tuple[float, int, int, int]:
    """(fps, width, height, frame count) of a video, via OpenCV."""
    import cv2

    path = Path(path)
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise InputError(path, "cannot open video (unreadable or unsupported codec)")
        ok, frame = cap.read()
        if not ok:
            raise InputError(path, "cannot decode any frame of the video")
        fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        h, w = frame.shape[:2]
    finally:
        cap.release()
    if n <= 0:  # some containers do not store a count: decode to count
        n = sum(1 for _ in iter_video(path))
    return (fps if fps > 0 else 30.0), w, h, n


def iter_video(path: Path, start: int = 1) -> Iterator[tuple[int, np.ndarray]]:
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise InputError(path, "cannot open video (unreadable or unsupported codec)")
    try:
        if start > 1:
            cap.set(cv2.CAP_PROP_POS_FRAMES, start - 1)
        f = start
        while True:
            ok, img = cap.read()
            if not ok:
                break
            yield f, img
            f += 1
    finally:
        cap.release()


class Sequence:
    """One tracking sequence. Frames are numbered from 1 as in MOT files.

    ``detections`` and ``gt`` are read lazily. ``det_path`` / ``gt_path`` may be overridden.
    """

    def __init__(self, info: SeqInfo, root: Path | None = None, *, video: Path | None = None,
                 images: list[Path] | None = None, det_path: Path | None = None, gt_path: Path | None = None):
        self.info = info
        self.root = root
        self.video = video
        self._images = images
        self._by_frame = None if not images else frame_numbers(images)
        self.det_path = det_path
        self.gt_path = gt_path

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def from_path(cls, path: str | Path, det_file: str | Path | None = None) -> "Sequence":
        path = Path(path)
        if not path.exists():
            raise InputError(path, "no such file or folder")
        if path.is_file():
            if path.suffix.lower() in VIDEO_EXTS:
                fps, w, h, n = probe_video(path)
                return cls(SeqInfo(path.stem, fps, w, h, n, im_dir="", im_ext=path.suffix), None, video=path)
            raise InputError(path, "not a video file or sequence folder")
        return cls._from_folder(path, det_file)

    @classmethod
    def _from_folder(cls, path: Path, det_file: str | Path | None) -> "Sequence":
        ini = path / "seqinfo.ini"
        gt = next((p for p in (path / "gt" / "gt.txt", path / "gt.txt") if p.is_file()), None)
        det = Path(det_file) if det_file else next((p for p in (path / "det" / "det.txt", path / "det.txt") if p.is_file()), None)
        video = _find_video(path)
        if ini.is_file():
            info = read_seqinfo(ini)
            imgdir = path / info.im_dir if info.im_dir else None
            images = None
            if imgdir is not None and imgdir.is_dir():
                images = _list_images(imgdir)
            elif video is None:
                images = None
            return cls(info, path, video=video if images is None else None, images=images, det_path=det, gt_path=gt)
        if video is not None:
            fps, w, h, n = probe_video(video)
            return cls(SeqInfo(path.name, fps, w, h, n, im_dir="", im_ext=video.suffix), path, video=video,
                       det_path=det, gt_path=gt)
        images = _list_images(path / "img1") if (path / "img1").is_dir() else _list_images(path)
        if images:
            import cv2

            first = cv2.imread(str(images[0]))
            if first is None:
                raise InputError(images[0], "cannot read image")
            h, w = first.shape[:2]
            return cls(SeqInfo(path.name, 30.0, w, h, len(images), im_dir=images[0].parent.name,
                               im_ext=images[0].suffix), path, images=images, det_path=det, gt_path=gt)
        if gt is not None or det is not None:
            # No seqinfo and no frames (e.g. motmetrics' TUD files): infer the length from the files.
            frames = 0
            for p in (gt, det):
                if p is not None:
                    t = motio.read_gt(p)
                    frames = max(frames, int(t.frame.max()) if len(t) else 0)
            return cls(SeqInfo(path.name, 30.0, 0, 0, max(frames, 1), im_dir=""), path, det_path=det, gt_path=gt)
        raise InputError(path, "not a sequence: no seqinfo.ini, video, images, gt or det file")

    # --- content ------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.info.name

    @property
    def has_images(self) -> bool:
        return self.video is not None or bool(self._images)

    @cached_property
    def detections(self) -> pd.DataFrame:
        if self.det_path is None or not Path(self.det_path).exists():
            return empty(DET_COLUMNS)
        return motio.read_detections(self.det_path, self.info.length)

    @cached_property
    def gt(self) -> pd.DataFrame | None:
        if self.gt_path is None or not Path(self.gt_path).exists():
            return None
        return motio.read_gt(self.gt_path, self.info.length)

    def _missing_image(self, frame: int) -> InputError:
        folder = self._images[0].parent
        return InputError(folder, f"no image for frame {frame} of sequence {self.name} "
                                  f"(images are matched to frames by their numbered names)")

    def image_path(self, frame: int) -> Path:
        if not self._images:
            raise InputError(self.root, "sequence has no image files")
        if self._by_frame is not None and 1 <= frame <= max(self._by_frame):
            if frame not in self._by_frame:
                raise self._missing_image(frame)
            return self._by_frame[frame]
        if not 1 <= frame <= len(self._images) or self._by_frame is not None:
            raise InputError(self.root, f"frame {frame} is outside the {len(self._images)} images")
        return self._images[frame - 1]

    def _image_frames(self, start: int) -> Iterator[tuple[int, Path]]:
        """(frame, image) from ``start`` to the last image within the sequence's length; a gap before
        that last image is an error naming the first missing frame."""
        if self._by_frame is None:
            yield from enumerate(self._images[start - 1:self.info.length], start=start)
            return
        last = min(max(self._by_frame), self.info.length)
        for f in range(start, last + 1):
            p = self._by_frame.get(f)
            if p is None:
                raise self._missing_image(f)
            yield f, p

    def frames(self, start: int = 1) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(frame_number, BGR image)`` from the images or the video."""
        import cv2

        if self._images:
            for i, p in self._image_frames(start):
                img = cv2.imread(str(p))
                if img is None:
                    raise InputError(p, "cannot read image")
                if _truncated_jpeg(p):
                    warnings.warn(f"{p}: truncated JPEG (no end-of-image marker); using what decodes", stacklevel=2)
                yield i, img
        elif self.video is not None:
            for f, img in iter_video(self.video, start):
                if f > self.info.length:  # a truncated sequence, or a video longer than its seqinfo
                    break
                yield f, img
        else:
            raise InputError(self.root, f"sequence {self.name} has no images or video")

    def truncated(self, n_frames: int) -> "Sequence":
        """The first ``n_frames`` frames only (detections and GT cut to match)."""
        n = max(1, min(int(n_frames), self.info.length))
        s = Sequence(replace(self.info, length=n), self.root, video=self.video,
                     images=None if self._images is None else self._truncated_images(n), det_path=self.det_path,
                     gt_path=self.gt_path)
        s.__dict__["detections"] = self.detections[self.detections.frame <= n].reset_index(drop=True)
        if self.gt is not None:
            s.__dict__["gt"] = self.gt[self.gt.frame <= n].reset_index(drop=True)
        return s

    def _truncated_images(self, n: int) -> list[Path]:
        if self._by_frame is None:
            return self._images[:n]
        return [p for f, p in sorted(self._by_frame.items()) if f <= n]

    def with_detections(self, det_path: str | Path) -> "Sequence":
        s = Sequence(self.info, self.root, video=self.video, images=self._images, det_path=Path(det_path),
                     gt_path=self.gt_path)
        return s

    def __repr__(self) -> str:
        return f"Sequence({self.name!r}, frames={self.info.length}, fps={self.info.fps:g}, size={self.info.width}x{self.info.height})"


def load_sequence(path: str | Path, det_file: str | Path | None = None) -> Sequence:
    return Sequence.from_path(path, det_file)
