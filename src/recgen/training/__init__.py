"""The shared trainer of recgen's neural models.

Contract (stable API)
---------------------
A model contributes **its module, its optimisers and its training step**; the :class:`Trainer` does
everything else. The easiest way is to subclass :class:`recgen.models.neural.NeuralRecommender`::

    @dataclass(frozen=True)
    class MyConfig(TrainingConfig):          # epochs, batch_size, lr, weight_decay, optimizer, lr_schedule,
        hidden: int = 600                    # lr_gamma, patience, eval_every, eval_metric, restore_best,
        epochs: int = 200                    # seed, device, show_progress, num_threads, checkpoint_dir

    @register
    class MyModel(NeuralRecommender):
        name, config_cls = "my-model", MyConfig
        def build_module(self, n_items) -> nn.Module: ...
        def init_module(self, module, generator) -> None: ...        # optional, seeded init
        def train_step(self, batch: Batch, ctx: StepContext): ...    # -> loss tensor or {"loss": t, "kl": ...}
        def forward_scores(self, batch: Batch) -> torch.Tensor: ...  # (B, n_items), eval mode
        def encode_batch(self, batch) -> torch.Tensor: ...           # optional
        def configure_optimizers(self) -> dict[str, Optimizer]: ...  # optional (default: one "main")
        def on_epoch_start(self, ctx: StepContext) -> None: ...      # optional (e.g. RecVAE alternation)
        def training_matrix(self, train) -> csr_matrix: ...          # optional (item-based: train.matrix.T)

The trainer sees the built module as ``model.module_`` and its device as ``model.device_``.
``model.fit(train, validation=None, *, resume=False, callbacks=())``; afterwards ``model.history_``
(list of per-epoch dicts: ``epoch``, ``step``, ``lr``, ``loss`` and every other value the step
returned (batch-size-weighted epoch means), ``seconds`` (wall) and ``cpu_seconds`` (process CPU, all
threads), and on validated epochs the metric, e.g. ``ndcg@20``, ``eval_seconds`` and ``eval_cpu_seconds``), ``model.best_epoch_``; the history is saved in the artifact.

Training step rules
-------------------
- ``batch`` (:class:`Batch`) holds CSR rows on the device: ``index`` (rows of the batched matrix,
  i.e. user indices), ``offsets``, ``cols``, ``vals``, ``row_ids``; ``batch.dense()`` densifies it.
- Return a scalar tensor (or ``{"loss": tensor, ...}``) and the trainer zeroes the gradients of every
  optimiser, backpropagates and steps every optimiser. Return a dict whose ``"loss"`` does not require
  grad (floats) and the trainer only logs it: the step optimised by itself with ``ctx.optimizers``
  (GANs, alternating updates).
- Every random draw uses ``ctx.generator`` (a ``torch.Generator`` on the device, seeded from
  ``config.seed`` and checkpointed); ``ctx.step`` is the global update count (e.g. KL annealing),
  ``ctx.epoch`` the 0-based epoch.

Trainer behaviour
-----------------
- Rows are shuffled every epoch with a ``torch.Generator`` seeded from ``seed``; each batch is sliced
  from the CSR matrix and moved to the device as CSR (never the full matrix densified).
- ``build_optimizer(params, config)`` (the default ``configure_optimizers``) makes Adam / AdamW / SGD
  with torch's fused kernels on CPU and CUDA (~5x faster than the per-tensor loop on a big output layer).
- Learning rate per epoch: ``initial_lr · factor(epoch)`` (``lr_schedule``), for every param group.
- With ``validation`` (an :class:`~recgen.data.EvalSet`), every ``eval_every`` epochs (and after the
  last) ``recgen.evaluation.evaluate(model, validation, ks=(k,))`` gives ``summary[eval_metric]``;
  ``patience`` validations without improvement stop training; with ``restore_best`` the best
  epoch's weights are loaded at the end.
- ``checkpoint_dir``: after every epoch, ``<dir>/last/`` (``tensors.safetensors`` + ``trainer.json``:
  module, best weights, optimiser states, generator states, epoch, step, history) is replaced
  atomically. ``fit(..., resume=True)`` continues from it and reaches the same final weights as an
  uninterrupted run (same device and thread count). A resume with other hyperparameters than the
  checkpoint's is refused (``epochs``, ``patience``, ``show_progress``, ``num_threads``, ``device`` and
  ``checkpoint_dir`` may change).
- ``num_threads`` sets ``torch.set_num_threads`` during ``fit`` only (process-wide while it runs) and
  restores the previous value afterwards.
- Callbacks (:class:`Callback`: ``on_train_begin``, ``on_epoch_end(trainer, record)``,
  ``on_train_end``) run after the epoch's checkpoint; setting ``trainer.should_stop`` stops training.
"""

from recgen.training.callbacks import Callback, LambdaCallback, StopAfter, TimeBudget
from recgen.training.config import TrainingConfig
from recgen.training.trainer import Batch, StepContext, Trainable, Trainer, build_optimizer, lr_factor

__all__ = ["Batch", "Callback", "LambdaCallback", "StepContext", "StopAfter", "TimeBudget", "Trainable", "Trainer",
           "TrainingConfig", "build_optimizer", "lr_factor"]
