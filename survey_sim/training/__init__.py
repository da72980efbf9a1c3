"""Fine-tuning: LoRA with a distribution loss on the first answer token (Cao et al. 2025).

`TrainConfig` is light to import; `survey_sim.training.run.train` pulls in transformers.
"""
from .config import TrainConfig

__all__ = ["TrainConfig"]
