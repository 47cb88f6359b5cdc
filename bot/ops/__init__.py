"""Running Crier: the web server, metrics, logging, Telegram's pace, timers."""
