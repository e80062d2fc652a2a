"""The fused cross-entropy against its composition, shared by the CPU test and the
CUDA simulator's."""
import numpy as np

import framework as fw
import framework.nn.functional as F


def fused_and_composed(x, target, reduction, device="cpu", ignore=3):
    """((loss, logits' grad) of the mean/sum node, the same of the per-row losses summed
    and divided by ops of their own); the loss is scaled by 3 before backward."""
    results = []
    for fused in (True, False):
        tx = fw.tensor(x, device=device, requires_grad=True)
        tt = fw.tensor(target, device=device)
        if fused:
            loss = F.cross_entropy(tx, tt, ignore_index=ignore, reduction=reduction,
                                   label_smoothing=0.1)
        else:
            rows = F.cross_entropy(tx, tt, ignore_index=ignore, reduction="none",
                                   label_smoothing=0.1)
            count = int((target != ignore).sum())
            loss = rows.sum() / count if reduction == "mean" else rows.sum()
        (loss * 3.0).backward()
        results.append((loss.detach().numpy(), tx.grad.numpy()))
    return results
