#!/usr/bin/env bash
# Distributed training with torchrun (torch.distributed.run).
#
#   bash tools/dist_train.sh CONFIG NUM_PROCS_PER_NODE [train.py args...]
#
# Multi-node (run once on every node):
#   NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 PORT=29500 bash tools/dist_train.sh CONFIG 8
#   NNODES=2 NODE_RANK=1 MASTER_ADDR=10.0.0.1 PORT=29500 bash tools/dist_train.sh CONFIG 8
#
# Without CUDA, tools/train.py switches the backend to gloo, so e.g.
#   bash tools/dist_train.sh CONFIG 2
# runs two CPU processes. PYTHON selects the interpreter (default: python).
set -euo pipefail

if [ "$#" -lt 2 ]; then
    echo "usage: $0 CONFIG NUM_PROCS_PER_NODE [train.py args...]" >&2
    exit 2
fi

CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}
TOOLS_DIR=$(cd "$(dirname "$0")" && pwd)

PYTHONPATH="${TOOLS_DIR}/..${PYTHONPATH:+:${PYTHONPATH}}" \
exec "${PYTHON}" -m torch.distributed.run \
    --nnodes="${NNODES}" \
    --node_rank="${NODE_RANK}" \
    --master_addr="${MASTER_ADDR}" \
    --nproc_per_node="${GPUS}" \
    --master_port="${PORT}" \
    "${TOOLS_DIR}/train.py" \
    "${CONFIG}" \
    --launcher pytorch "${@:3}"
