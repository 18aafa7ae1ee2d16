"""A tiny SavedModel with MeTRAbs' interface, built with TensorFlow for the tests.

It exposes ``detect_poses_batched`` with MeTRAbs' argument names, dtypes and
ragged outputs, plus ``per_skeleton_joint_names`` / ``per_skeleton_joint_edges``
for the skeletons ``smpl+head_30`` and ``h36m_17``.

Ground truth (per frame of size H×W, ``m`` = mean pixel value):
* one person when ``m > 10`` and ``max_detections != 0``, else none
  (``max_detections`` < 0 means unlimited; two people when ``m > 200``);
* person ``p``: joint ``j`` at ``X = 100 j + 1000 p``, ``Y = m``, ``Z = 3000`` mm;
* ``poses2d`` = pinhole projection with the given intrinsic matrix;
* box = (10, 20, 30, 40, 0.9) in pixels.
"""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf

SKELS = {
    "smpl+head_30": 30,
    "h36m_17": 17,
}


class FakeMetrabs(tf.Module):
    def __init__(self) -> None:
        super().__init__()
        from neuropose.skeletons import SKELETONS

        self.per_skeleton_joint_names = {
            k: tf.Variable(list(SKELETONS[k].joints), trainable=False) for k in SKELS
        }
        self.per_skeleton_joint_edges = {
            k: tf.Variable([list(e) for e in SKELETONS[k].edges], dtype=tf.int32, trainable=False)
            for k in SKELS
        }

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, None, None, 3], tf.uint8, name="images"),
            tf.TensorSpec([None, 3, 3], tf.float32, name="intrinsic_matrix"),
            tf.TensorSpec([None, 5], tf.float32, name="distortion_coeffs"),
            tf.TensorSpec([], tf.string, name="skeleton"),
            tf.TensorSpec([], tf.int32, name="num_aug"),
            tf.TensorSpec([], tf.float32, name="detector_threshold"),
            tf.TensorSpec([], tf.int32, name="max_detections"),
            tf.TensorSpec([], tf.int32, name="internal_batch_size"),
        ]
    )
    def detect_poses_batched(
        self,
        images,
        intrinsic_matrix=tf.zeros([1, 3, 3]),
        distortion_coeffs=tf.zeros([1, 5]),
        skeleton="smpl+head_30",
        num_aug=5,
        detector_threshold=0.3,
        max_detections=-1,
        internal_batch_size=64,
    ):
        n_joints = tf.where(tf.equal(skeleton, "h36m_17"), 17, 30)
        means = tf.reduce_mean(tf.cast(images, tf.float32), axis=[1, 2, 3])
        count = tf.where(means > 200.0, 2, tf.where(means > 10.0, 1, 0))
        count = tf.where(max_detections >= 0, tf.minimum(count, max_detections), count)
        n = tf.shape(images)[0]
        frame_of = tf.repeat(tf.range(n), count)
        person = tf.ragged.range(count).flat_values
        m = tf.gather(means, frame_of)
        j = tf.cast(tf.range(n_joints), tf.float32)
        x = 100.0 * j[None, :] + 1000.0 * tf.cast(person, tf.float32)[:, None]
        y = tf.broadcast_to(m[:, None], tf.shape(x))
        z = tf.fill(tf.shape(x), 3000.0)
        p3 = tf.stack([x, y, z], axis=-1)
        k = tf.gather(tf.broadcast_to(intrinsic_matrix, [n, 3, 3]), frame_of)
        u = k[:, 0, 0][:, None] * x / z + k[:, 0, 2][:, None]
        v = k[:, 1, 1][:, None] * y / z + k[:, 1, 2][:, None]
        p2 = tf.stack([u, v], axis=-1)
        boxes = tf.tile(tf.constant([[10.0, 20.0, 30.0, 40.0, 0.9]]), [tf.reduce_sum(count), 1])
        return {
            "boxes": tf.RaggedTensor.from_row_lengths(boxes, count),
            "poses3d": tf.RaggedTensor.from_row_lengths(p3, count),
            "poses2d": tf.RaggedTensor.from_row_lengths(p2, count),
        }


def build_fake_metrabs(directory: Path) -> Path:
    """Save the fake SavedModel into ``directory`` and return it."""
    tf.saved_model.save(FakeMetrabs(), str(directory))
    return directory
