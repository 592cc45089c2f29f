"""Signal processing: STFT, display spectrogram, loudness, limiter."""
