"""netplug: bridges, veth pairs, IPAM, service discovery and published ports for Linux hosts.

Independent of ``compose``; usable on its own. Public verbs: ensure_network, remove_network,
attach, detach, check.
"""
