#!/bin/bash
# round 50 after round 49's fresh.sh exits
P=$1
while kill -0 $P 2>/dev/null; do sleep 20; done
bash experiments/every-seed/fresh.sh m50 results/every-seed/zen4-461-480-fp32 461 480 12:50 -- --precision fp32 > logs/r50.out 2>&1
