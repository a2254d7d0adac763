"""A dozen-node, dozen-pod openb fixture written into a temporary directory by the tests."""

from __future__ import annotations

from pathlib import Path

NODES = """sn,cpu_milli,memory_mib,gpu,model
node-00,96000,393216,8,G2
node-01,96000,393216,8,G2
node-02,96000,393216,8,G2
node-03,104000,524288,2,T4
node-04,104000,524288,2,T4
node-05,96000,393216,4,T4
node-06,64000,262144,2,P100
node-07,64000,262144,8,V100M16
node-08,96000,786432,8,V100M32
node-09,128000,1048576,1,A10
node-10,32000,131072,4,V100M16
node-11,8000,32768,1,V100M16
node-12,64000,262144,0,
"""

PODS = """name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time
pod-00,12000,16384,1,1000,,LS,Running,0,10,0
pod-01,6000,12288,1,460,,LS,Running,1,10,1
pod-02,4000,8192,0,0,,BE,Running,2,10,2
pod-03,32000,65536,8,1000,,LS,Running,3,10,3
pod-04,8000,16384,2,1000,V100M16|V100M32,LS,Running,4,10,4
pod-05,2000,4096,1,250,T4,LS,Running,5,10,5
pod-06,16000,32768,4,1000,,LS,Running,6,10,6
pod-07,3000,6144,1,500,,LS,Running,7,10,7
pod-08,6000,12288,1,1000,,LS,Running,8,10,8
pod-09,1000,2048,0,0,,BE,Running,9,10,9
pod-10,8000,16384,1,810,,LS,Running,10,11,10
pod-11,24000,49152,1,1000,A10,LS,Running,11,12,11
"""


def five_columns(text: str) -> str:
    return "\n".join(",".join(line.split(",")[:5]) for line in text.strip().splitlines()) + "\n"


def write(tmp: Path, *, pods: str = PODS, nodes: str = NODES, stem: str = "openb_pod_list_tiny") -> Path:
    """Write the node list and a pod list side by side; return the pod list's path."""
    (tmp / "openb_node_list_gpu_node.csv").write_text(nodes)
    path = tmp / f"{stem}.csv"
    path.write_text(pods)
    return path
