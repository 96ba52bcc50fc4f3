# Round 45 -> step cost alone -> round 47 (if wide-grouped's step <= 1.3x plain's) -> round 46 (PLAN.md, round 47).
while kill -0 2209 2>/dev/null; do sleep 15; done
echo "round 45 done $(date -u +%H:%M:%S)" >> logs/chain.txt
PYTHONPATH=. .venv/bin/python experiments/every-seed/step_cost.py 8,12,14,8,12,16,16:000000 \
  8,12,14,16,32,40,48:000111 8,12,14,16,48,60,72:000233 > logs/step-cost.txt 2>&1
plain=$(grep "^8,12,14,8,12,16,16:000000:" logs/step-cost.txt | sed 's/.*parameters, \([0-9.]*\) ms.*/\1/')
wg=$(grep "^8,12,14,16,48,60,72:000233:" logs/step-cost.txt | sed 's/.*parameters, \([0-9.]*\) ms.*/\1/')
ok=$(.venv/bin/python -c "print(int($wg / $plain <= 1.3))")
echo "step cost done $(date -u +%H:%M:%S): plain $plain ms, wide-grouped $wg ms, ratio ok: $ok" >> logs/chain.txt
if [ "$ok" = 1 ]; then
  bash experiments/every-seed/screen.sh wg /work/r45/results/every-seed/fresh-501-520-bf16-zen4 \
    results/every-seed/screen-r47-wide-grouped 501 520 09:50 -- --model wide-grouped > logs/r47.out 2>&1
  echo "round 47 done $(date -u +%H:%M:%S)" >> logs/chain.txt
fi
cd /work/r46 && echo "round 46 start $(date -u +%H:%M:%S)" >> /work/r47/logs/chain.txt
bash experiments/every-seed/fresh.sh f46 results/every-seed/fresh-501-520-fp32-zen4 501 520 10:05 -- --precision fp32 > logs/r46.out 2>&1
