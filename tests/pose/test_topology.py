"""pose.topology holds pose-format's Holistic header and MediaPipe's face-mesh edges as they are where both import."""

from __future__ import annotations

import pytest

from pose import topology


def _pose_format_holistic():
    try:
        from pose_format.utils import holistic
    except ImportError as err:  # it needs mediapipe's legacy solutions (mediapipe 0.10.21)
        pytest.skip(f"pose_format.utils.holistic does not import here ({err})")
    return holistic


@pytest.mark.parametrize("pf, extra", [("XYZC", 0), ("XYZC", 10), ("XYC", 0)])
def test_the_components_are_pose_formats(pf, extra):
    theirs = _pose_format_holistic().holistic_components(pf, extra)
    ours = topology.holistic_components(pf, extra)

    def described(components):
        return [(c.name, c.points, c.limbs, c.colors, c.format) for c in components]

    assert described(ours) == described(theirs)


def test_the_face_contours_and_hand_limbs_are_pose_formats():
    holistic = _pose_format_holistic()
    assert topology.facemesh_contours_points() == holistic.FACEMESH_CONTOURS_POINTS
    assert topology.hand_limbs() == holistic.HAND_LIMBS


def test_the_face_mesh_edges_are_mediapipes_in_their_iteration_order():
    _pose_format_holistic()
    from mediapipe.python.solutions import face_mesh_connections as fm

    ours = topology.face_mesh_connections()
    for name, edges in vars(ours).items():
        assert edges == [(int(a), int(b)) for a, b in getattr(fm, name)], name
