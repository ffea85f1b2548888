"""Constants shared by the synth tests (fixtures are in this directory's conftest.py)."""

TINY_GAN = {"ae_epochs": 8, "ae_hidden_dims": (32,), "ae_latent_dim": 8, "hidden_dims": (32, 32), "noise_dim": 8,
            "epochs": 12, "batch_size": 32, "lr": 5e-4, "show_progress": False, "device": "cpu", "seed": 0,
            "calibration_users": 1000}
