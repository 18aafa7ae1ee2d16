"""Run a signal spec on poses, frame by frame or in chunks, with carried state.

:class:`SignalGraph` instantiates every node of a :class:`SignalSpec` for
one pose joint axis and pushes frames through them in topological order.
Causal nodes give the same numbers whatever the chunking (chunk
invariance, to 1e-9); non-causal nodes recompute on all frames so far.

Missing detections (``missing``)
--------------------------------
``propagate``
    NaN joints stay NaN; each node turns a missing input frame into NaN
    over its documented window and never latches NaN in its state.
``hold``
    Each missing joint coordinate takes its last finite value (causal);
    NaN until the first detection.
``interpolate``
    Interior gaps (up to ``max_gap`` frames, when given) are filled linearly
    in time per joint coordinate (:func:`neuropose.gaps.fill_gaps`) before
    the nodes run (frames before the first and after the last detection
    stay NaN). It needs the whole
    recording: only :meth:`SignalGraph.run`, never live, and the graph
    reports it in :attr:`SignalGraph.non_causal`.

Examples
--------
>>> import numpy as np
>>> from neuropose.signals.spec import parse_spec
>>> from neuropose.skeletons import BLAZEPOSE_33
>>> spec = parse_spec({"nodes": [
...     {"name": "hip_y", "kind": "joint", "params": {"joint": "pelvis", "axis": "y"}},
...     {"name": "hip_vy", "kind": "velocity", "inputs": ["hip_y"]}]})
>>> g = SignalGraph(spec, BLAZEPOSE_33.joints)
>>> t = np.arange(4) / 10
>>> poses = np.zeros((4, 33, 3)); poses[:, :, 1] = 5 * t[:, None]
>>> g.run(t, poses)["hip_vy"].round(6).tolist()
[nan, 5.0, 5.0, 5.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from neuropose.errors import UsageError
from neuropose.gaps import fill_gaps
from neuropose.schemas import Skeleton
from neuropose.signals.joints import JointMap
from neuropose.signals.nodes import REGISTRY, JointLookupError, Node
from neuropose.signals.spec import SignalSpec, SpecError

__all__ = ["MISSING_POLICIES", "MissingPolicy", "SignalGraph"]

MissingPolicy = Literal["propagate", "hold", "interpolate"]
#: The missing-detection policies.
MISSING_POLICIES: tuple[str, ...] = ("propagate", "hold", "interpolate")
#: Name reported in :attr:`SignalGraph.non_causal` for the interpolate policy.
INTERPOLATE_MARK = "missing=interpolate"


class SignalGraph:
    """A spec bound to a pose joint axis, with the state of every node.

    Parameters
    ----------
    spec : SignalSpec
        The validated spec.
    joint_names : sequence of str or Skeleton
        Names of the pose joint axis (a result file's ``skeleton.joints``).
    live : bool
        Refuse non-causal nodes and the ``interpolate`` policy (live use).
    missing : {"propagate", "hold", "interpolate"}
        Missing-detection policy (module docstring).
    max_gap : int, optional
        With ``interpolate``: longest gap (frames) filled; longer gaps stay
        NaN. Default: every interior gap.

    Raises
    ------
    SpecError
        A joint of the spec is not on the joint axis, or (``live``) a node
        is not causal; the message names the node.
    UsageError
        Unknown ``missing`` policy, or ``interpolate`` with ``live``.
    """

    def __init__(
        self,
        spec: SignalSpec,
        joint_names: Sequence[str] | Skeleton,
        *,
        live: bool = False,
        missing: str = "propagate",
        max_gap: int | None = None,
    ) -> None:
        if missing not in MISSING_POLICIES:
            raise UsageError(
                f"unknown missing-detection policy {missing!r}",
                hint=f"use one of {', '.join(MISSING_POLICIES)}",
            )
        if live and missing == "interpolate":
            raise UsageError(
                "missing='interpolate' needs future frames and cannot run live",
                hint="use propagate or hold",
            )
        self.spec = spec
        if max_gap is not None and (missing != "interpolate" or max_gap < 1):
            raise UsageError(
                f"max_gap={max_gap} applies to missing='interpolate' only and must be >= 1"
            )
        self.missing = missing
        self.max_gap = max_gap
        self.live = live
        self.joints = JointMap(joint_names)
        self._order = spec.order
        self._inputs = {n.name: n.inputs for n in spec.nodes}
        self._nodes: dict[str, Node] = {}
        for name in self._order:
            ns = spec.node(name)
            cls = REGISTRY[ns.kind]
            if live and not cls.causal:
                raise SpecError(
                    f"kind {ns.kind!r} is not causal (it needs future frames) and cannot run live",
                    source=spec.source,
                    node=name,
                    field="kind",
                    hint="use its causal counterpart (butterworth, moving_average) live",
                )
            try:
                self._nodes[name] = cls(name, ns.params, self.joints)
            except JointLookupError as exc:
                raise SpecError(
                    exc.message, source=spec.source, node=name, field=f"params.{exc.field}"
                ) from None
        self.reset()

    @property
    def outputs(self) -> list[str]:
        """Every node name, in topological order (the keys of :meth:`push`'s result)."""
        return list(self._order)

    @property
    def non_causal(self) -> list[str]:
        """Names of the non-causal nodes (plus ``missing=interpolate`` when used)."""
        names = [n for n in self._order if not self._nodes[n].causal]
        if self.missing == "interpolate":
            names.append(INTERPOLATE_MARK)
        return names

    def kind_of(self, name: str) -> str:
        """The kind of node ``name``."""
        return self._nodes[name].kind

    def nan_span(self, name: str) -> int | None:
        """Frames after a missing input frame that node ``name`` itself makes NaN
        (:meth:`neuropose.signals.nodes.Node.nan_span`; its inputs add theirs)."""
        return self._nodes[name].nan_span()

    @property
    def units(self) -> dict[str, str]:
        """Node name → unit of its output (e.g. ``"deg/s"``), see :meth:`SignalSpec.units`."""
        return self.spec.units()

    def reset(self) -> None:
        """Forget every node's state and the held pose: the next push starts afresh."""
        for node in self._nodes.values():
            node.reset()
        self._held: np.ndarray | None = None

    def _check(self, times_s: np.ndarray, poses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = np.asarray(times_s, dtype=np.float64).reshape(-1)
        p = np.asarray(poses, dtype=np.float64)
        n_joints = len(self.joints.names)
        if p.ndim != 3 or p.shape[1:] != (n_joints, 3) or p.shape[0] != t.shape[0]:
            raise UsageError(
                f"poses of shape {p.shape} with {t.shape[0]} times do not match "
                f"(n, {n_joints}, 3) for this graph's joint axis"
            )
        return t, p

    def _hold(self, poses: np.ndarray) -> np.ndarray:
        flat = poses.reshape(poses.shape[0], poses.shape[1] * poses.shape[2])
        held = np.full(flat.shape[1], np.nan) if self._held is None else self._held
        both = np.concatenate([held[None, :], flat])
        ok = np.isfinite(both)
        ok[0] = True
        idx = np.maximum.accumulate(np.where(ok, np.arange(both.shape[0])[:, None], 0), axis=0)
        filled = np.take_along_axis(both, idx, axis=0)[1:]
        self._held = filled[-1].copy() if len(filled) else held
        return filled.reshape(poses.shape)

    def push(self, times_s: np.ndarray, poses: np.ndarray) -> dict[str, np.ndarray]:
        """Push ``n`` new frames; return every node's output rows for them.

        Parameters
        ----------
        times_s : ndarray, shape (n,)
            Frame times in seconds (capture or container clock).
        poses : ndarray, shape (n, J, 3)
            Joint positions, NaN = missing.

        Returns
        -------
        dict of str to ndarray
            Node name → output with leading dimension n, in :attr:`outputs` order.
        """
        if self.missing == "interpolate":
            raise UsageError(
                "missing='interpolate' needs the whole recording: call run(), not push()"
            )
        t, p = self._check(times_s, poses)
        return self._push(t, p)

    def _push(self, t: np.ndarray, p: np.ndarray) -> dict[str, np.ndarray]:
        if self.missing == "hold":
            p = self._hold(p)
        out: dict[str, np.ndarray] = {}
        for name in self._order:
            node = self._nodes[name]
            inputs = [out[i] for i in self._inputs[name]]
            out[name] = node.push(t, p, inputs)
        return out

    def run(self, times_s: np.ndarray, poses: np.ndarray) -> dict[str, np.ndarray]:
        """Reset, then push the whole recording (the offline computation)."""
        t, p = self._check(times_s, poses)
        self.reset()
        if self.missing == "interpolate":
            p, _ = fill_gaps(t, p, self.max_gap)
        return self._push(t, p)
