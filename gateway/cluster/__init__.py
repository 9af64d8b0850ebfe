"""Cluster mode on Redis (GATEWAY_REDIS_URL): the async parts replicas share.

`link` (the Redis client with a timeout on every call and a health watch), `tokens`
(single-use stream tokens across the cluster), `slots` (cluster-wide admission with leases),
`call_state` (what carries a call on elsewhere), `node` (the replica's cluster: all of it
started and stopped together). The decisions are pure: `gateway.core.carry_on`,
`gateway.core.admission`. Nothing here runs on the per-frame path.
"""
