"""Optional appearance encoders for weights the user has on disk.

None of these weights ship in any wheel; each class fails with a one-line :class:`InputError`
naming the missing weights file or the package to install.

- :class:`TorchreidEncoder`: torchreid models (OSNet ...) from a torchreid model-zoo ``.pth``.
- :class:`FastReIDEncoder`: a fast-reid model exported to ONNX; TorchScript (``.pt``/``.ts``) and
  torch.export (``.pt2``) archives only with ``trust_code=True`` (loading them runs code from the file).
- :class:`OpenClipEncoder`: the image tower of an open_clip model from a local checkpoint.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..errors import InputError
from .base import TorchImageEncoder, require_file, require_package

TORCHSCRIPT_EXTS = (".pt", ".ts", ".torchscript", ".jit")


def _load_state(path: Path) -> dict:
    """A state dict from ``.safetensors`` or a torch file (``weights_only``: loading runs no code)."""
    import torch

    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # pickles with custom classes are refused by weights_only
        raise InputError(path, f"cannot load weights as a plain state dict ({type(e).__name__})") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise InputError(path, "weights file does not hold a state dict")
    return {k[7:] if k.startswith("module.") else k: v for k, v in state.items()}


class TorchreidEncoder(TorchImageEncoder):
    """A torchreid model (default ``osnet_x1_0``, 512-d) with model-zoo weights, 256x128 crops."""

    def __init__(self, weights: str | Path | None, model_name: str = "osnet_x1_0",
                 crop_size: tuple[int, int] = (256, 128), batch_size: int = 32, normalize: bool = True,
                 num_threads: int | None = None):
        super().__init__(crop_size, batch_size, normalize, num_threads)
        hint = "download it from the torchreid model zoo (kaiyangzhou.github.io/deep-person-reid/MODEL_ZOO)"
        self.weights_path = require_file(weights, f"torchreid {model_name}", hint)
        torchreid = require_package("torchreid", "the torchreid encoder", "pip install torchreid torch==2.13.0")
        self.model = torchreid.models.build_model(name=model_name, num_classes=1, pretrained=False)
        state = {k: v for k, v in _load_state(self.weights_path).items() if not k.startswith("classifier.")}
        missing, _ = self.model.load_state_dict(state, strict=False)
        missing = [k for k in missing if not k.startswith("classifier.")]
        if missing:
            raise InputError(self.weights_path, f"weights do not fit {model_name}: {len(missing)} tensors "
                                                f"missing (first: {missing[0]})")
        self.model.eval()
        self.dim = self._infer_dim()
        self.name = f"torchreid-{model_name}-{self._tag()}"


class FastReIDEncoder(TorchImageEncoder):
    """A fast-reid export: ONNX (``.onnx``); with ``trust_code=True`` also TorchScript (``.pt``,
    ``.ts``) or torch.export (``.pt2``, with a dynamic batch dimension).

    ``trust_code``: TorchScript and torch.export archives are programs, not data. Loading one runs
    the code it holds (``torch.export.load`` also unpickles with ``weights_only=False``), so a crafted
    file can do anything your user can. Pass ``trust_code=True`` only for files you made or trust;
    by default they are refused and nothing in them is read.

    fast-reid's exported graphs normalise inside, so by default the input is the RGB crop with
    0..255 values (as fast-reid's ``tools/deploy`` scripts feed it); set ``mean``/``std``/``scale``
    for exports that expect otherwise. ONNX runs on onnxruntime when installed, else on cv2.dnn.
    """

    def __init__(self, weights: str | Path | None, crop_size: tuple[int, int] = (256, 128),
                 batch_size: int = 32, normalize: bool = True, num_threads: int | None = None,
                 mean: tuple[float, float, float] = (0.0, 0.0, 0.0),
                 std: tuple[float, float, float] = (1.0, 1.0, 1.0), scale: float = 1.0, trust_code: bool = False):
        super().__init__(crop_size, batch_size, normalize, num_threads)
        self.mean, self.std, self.scale = tuple(mean), tuple(std), float(scale)
        hint = "export a fast-reid model with its tools/deploy scripts (TorchScript or ONNX)"
        self.weights_path = require_file(weights, "fast-reid", hint)
        suffix = self.weights_path.suffix.lower()
        self._onnx = None
        if suffix == ".onnx":
            self._onnx = self._open_onnx(self.weights_path)
        elif (suffix == ".pt2" or suffix in TORCHSCRIPT_EXTS) and not trust_code:
            raise InputError(self.weights_path, "TorchScript and torch.export archives run code when loaded; export "
                                                "to ONNX, or pass trust_code=True if you trust this file")
        elif suffix == ".pt2":
            import torch

            try:
                self.model = torch.export.load(str(self.weights_path)).module()
            except Exception as e:
                raise InputError(self.weights_path, f"not a torch.export archive ({type(e).__name__})") from None
        elif suffix in TORCHSCRIPT_EXTS:
            import torch

            try:
                with warnings.catch_warnings():  # torch >= 2.10 marks TorchScript deprecated
                    warnings.simplefilter("ignore", DeprecationWarning)
                    self.model = torch.jit.load(str(self.weights_path), map_location="cpu")
            except Exception as e:
                raise InputError(self.weights_path, f"not a TorchScript archive ({type(e).__name__}); a "
                                                    "fast-reid .pth checkpoint must be exported first") from None
            self.model.eval()
        else:
            raise InputError(self.weights_path, f"unsupported fast-reid file type {suffix!r}; use a "
                                                "TorchScript (.pt, .ts), torch.export (.pt2) or ONNX export")
        self.dim = self._infer_dim()
        self.name = f"fastreid-{self.weights_path.stem}-{self._tag()}"

    @staticmethod
    def _open_onnx(path: Path):
        try:
            import onnxruntime as ort

            try:
                sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            except Exception as e:  # onnxruntime's own error types
                raise InputError(path, f"not a readable ONNX model ({type(e).__name__})") from None
            return ("ort", sess, sess.get_inputs()[0].name)
        except ImportError:
            import cv2

            try:
                return ("cv2", cv2.dnn.readNetFromONNX(str(path)), None)
            except cv2.error:
                raise InputError(path, "OpenCV cannot read this ONNX model; "
                                       "run `pip install onnxruntime`") from None

    def forward(self, x):
        import torch

        if self._onnx is None:
            return self.model(x)
        kind, runner, input_name = self._onnx
        arr = x.numpy()
        if kind == "ort":
            y = runner.run(None, {input_name: arr})[0]
        else:
            runner.setInput(arr)
            y = runner.forward()
        return torch.from_numpy(np.asarray(y, dtype=np.float32))


class OpenClipEncoder(TorchImageEncoder):
    """The image tower of an open_clip model (default ViT-B-32) loaded from a local checkpoint
    (``.safetensors`` or a torch state dict)."""

    mean = (0.48145466, 0.4578275, 0.40821073)  # OpenAI CLIP statistics
    std = (0.26862954, 0.26130258, 0.27577711)

    def __init__(self, weights: str | Path | None, model_name: str = "ViT-B-32", batch_size: int = 32,
                 normalize: bool = True, num_threads: int | None = None):
        self.weights_path = require_file(weights, f"open_clip {model_name}",
                                         "download the checkpoint (e.g. open_clip_pytorch_model.bin) first")
        open_clip = require_package("open_clip", "the open_clip encoder",
                                    "pip install open_clip_torch torch==2.13.0")
        model = open_clip.create_model(model_name, pretrained=None)
        try:
            model.load_state_dict(_load_state(self.weights_path))
        except RuntimeError as e:
            raise InputError(self.weights_path, f"weights do not fit {model_name}: "
                                                f"{str(e).splitlines()[0]}") from None
        size = model.visual.image_size
        size = (size, size) if isinstance(size, int) else tuple(size)
        super().__init__(size, batch_size, normalize, num_threads)
        self.model = model.visual.eval()
        self.dim = int(model.visual.output_dim)
        self.name = f"openclip-{model_name}-{self._tag()}"
