import numpy as np

from lgmot.graph import Tracklets, candidate_edges, edge_labels


def _scene():
    # nodes (sorted): 0 f1 id1 | 1 f1 id2 | 2 f2 id1 | 3 f2 -1 | 4 f3 id2 | 5 f3 -1 | 6 f4 id1
    frames = [1, 1, 2, 2, 3, 3, 4]
    ids = [1, 2, 1, -1, 2, -1, 1]
    return Tracklets.from_detections(frames, [[0, 0, 1, 1]] * 7, gt_ids=ids)


def test_flow_labels_link_only_consecutive_same_id_nodes():
    t = _scene()
    edges = candidate_edges(t.start_frame, t.end_frame, 10, 1)
    lab = edge_labels(t, edges)
    pos = {tuple(e) for e in edges[lab == 1].tolist()}
    assert pos == {(0, 2), (2, 6), (1, 4)}  # not (0, 6): 2 lies between; -1 never positive
    assert lab.dtype == np.float32 and lab.shape == (len(edges),)


def test_closest_is_taken_among_the_given_edges():
    t = _scene()
    edges = np.array([[0, 6], [2, 6], [3, 5], [1, 4]])
    # (0, 2) was pruned: 6 is now 0's closest same-id successor, and 2 is still 6's closest predecessor
    np.testing.assert_array_equal(edge_labels(t, edges), [1, 1, 0, 1])
    assert edge_labels(t, np.zeros((0, 2), np.int64)).shape == (0,)


def test_loss_mask_leaves_out_skip_and_false_positive_pairs():
    from lgmot.graph import loss_mask

    t = _scene()
    # (0,6): id1 skip over node 2; (3,5): both unmatched; (0,2) positive; (0,3): id1 -> unmatched;
    # (1,2): id2 -> id1; (2,6) positive
    edges = np.array([[0, 6], [3, 5], [0, 2], [0, 3], [1, 2], [2, 6]])
    lab = edge_labels(t, edges)
    np.testing.assert_array_equal(lab, [0, 0, 1, 0, 0, 1])
    np.testing.assert_array_equal(loss_mask(t, edges, lab), [1, 1, 1, 1, 1, 1])
    np.testing.assert_array_equal(loss_mask(t, edges, lab, ("skip",)), [0, 1, 1, 1, 1, 1])
    np.testing.assert_array_equal(loss_mask(t, edges, lab, ("fp_pair",)), [1, 0, 1, 1, 1, 1])
    np.testing.assert_array_equal(loss_mask(t, edges, lab, ("skip", "fp_pair")), [0, 0, 1, 1, 1, 1])
    # a positive edge is never left out, even between same-identity nodes
    assert loss_mask(t, np.array([[0, 2]]), np.array([1.0]), ("skip",)).all()
    import pytest

    with pytest.raises(ValueError, match="loss_ignore: unknown"):
        loss_mask(t, edges, lab, ("nope",))
