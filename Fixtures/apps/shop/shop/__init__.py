"""A small shop backend on Redis (redis-py), the shape the Upstash migration guides describe."""
