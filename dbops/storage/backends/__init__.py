"""Storage backends: local filesystem, in-memory, obstore (S3/GCS/Azure/local) and fsspec."""
