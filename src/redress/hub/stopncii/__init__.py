"""The StopNCII-compatible API beside the native one."""
