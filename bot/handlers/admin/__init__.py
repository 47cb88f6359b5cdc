"""Admin commands and /broadcast."""
