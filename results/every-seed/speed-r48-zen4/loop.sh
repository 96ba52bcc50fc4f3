# waits for round 46's fresh.sh (pid 3953), then round 48 alone (PLAN.md)
while kill -0 3953 2>/dev/null; do sleep 15; done
echo "start $(date -u +%H:%M:%S)" >> logs/loop.txt
bash experiments/every-seed/speed.sh results/every-seed/speed-r48-zen4/run -- > logs/speed.txt 2>&1
echo "speed done $(date -u +%H:%M:%S)" >> logs/loop.txt
.venv/bin/python experiments/every-seed/step_cost.py 8,12,14,8,12,16,16:000000 8,12,14,16,32,40,48:000111 \
  8,12,14,16,48,60,72:000233 8,12,14,16,40,56,64:000222 8,12,14,16,36,52,64:000122 > logs/step-cost.txt 2>&1
echo "step cost done $(date -u +%H:%M:%S)" >> logs/loop.txt
