"""The shop backend on Upstash's REST SDK."""
