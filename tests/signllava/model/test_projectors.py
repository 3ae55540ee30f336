"""Stream projectors: the registry, temporal pooling and the temporal convolution blocks."""

from __future__ import annotations

import pytest
import torch

from pose.errors import InputError
from signllava.model.projectors import StreamProjector, build_projector, pool_time


def test_projector_registry_and_pooling():
    assert isinstance(build_projector("linear", 4, 8), torch.nn.Linear)
    assert len(build_projector("mlp3x_gelu", 4, 8)) == 5
    x = torch.arange(12.0).view(1, 6, 2)
    mask = torch.tensor([[True, True, True, True, True, False]])
    pooled, pmask = pool_time(x, mask, "mean", 4)
    assert pooled.shape == (1, 2, 2) and pmask.tolist() == [[True, True]]
    assert torch.allclose(pooled[0, 1], x[0, 4])  # the padded frame is not averaged in
    strided, _ = pool_time(x, mask, "stride", 4)
    assert torch.equal(strided[0, 1], x[0, 4])


def test_temporal_blocks_start_as_identity_and_see_neighbours_not_padding():
    torch.manual_seed(0)
    plain = StreamProjector(8, 16, stride=2)
    conv = StreamProjector(8, 16, stride=2, temporal=2)
    conv.proj.load_state_dict(plain.proj.state_dict())
    x = torch.randn(2, 12, 8)
    mask = torch.arange(12)[None] < torch.tensor([[12], [7]])
    assert torch.equal(conv(x, mask)[0], plain(x, mask)[0])  # zero-initialized output: a new block changes nothing
    for block in conv.temporal:
        torch.nn.init.normal_(block.out.weight, std=0.1)
    y, ymask = conv(x, mask)
    assert ymask.tolist() == [[True] * 6, [True] * 4 + [False] * 2]
    later = x.clone()
    later[:, 10:] += 5.0  # change only the last token's frames
    y2, _ = conv(later, mask)
    assert not torch.allclose(y2[0, 4], y[0, 4])  # a neighbour now sees it (kernel 5 over tokens)
    assert torch.equal(y2[1, :4], y[1, :4])  # in sample 2 those frames are padding: they leak nowhere
    with pytest.raises(InputError, match="temporal"):
        StreamProjector(8, 16, temporal=-1)
