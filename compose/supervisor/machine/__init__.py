"""The machine: what the control loop's ``Driver`` does on this Linux host (root).

    linux.py       LinuxDriver: the Driver facade; each verb = an owner's blocking part in a
                   worker thread, then Traffic told what changed
    context.py     what the owners share: project, stack, images, records, runtime
    networks.py    Networks: bridges/IPAM and volumes, and the project record listing them
    replicas.py    Replicas: one replica's lifecycle (create with rollback, start, stop, kill,
                   pause, remove, rename) and its record
    traffic.py     Traffic: who gets traffic (DNS, loopback proxy, /etc/hosts, DNAT; the gate
                   that withholds a start-first successor and drains its predecessor)
    netservices.py the embedded DNS server and the loopback port proxy of the supervisor
    etcfiles.py    pure: /etc/hosts, resolv.conf, hostname and link variables of a replica
    spec.py        pure: model service -> container spec (what the runtime runs)
    forget.py      after a full `down`: records, run dir and cgroups of the project go
    coalesce.py    serialized, shared runs of an idempotent job (DNAT updates)

One direction: linux → {networks, replicas, traffic} → {etcfiles, spec, context}; replicas
→ traffic (a removed replica leaves the DNAT set before its veth goes); nothing calls back up.
"""
