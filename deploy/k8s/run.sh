#!/usr/bin/env bash
# One distributed load run on Kubernetes: N generators (an Indexed Job, one shard each) started
# together against TARGET, then the merge step. Needs kubectl pointed at the lab cluster, the
# image pushed where the cluster pulls from (IMAGE), the claim in results-pvc.yaml, and the
# target's CA: kubectl create secret generic e911-target-ca --from-file=ca.pem=YOUR-CA.pem
#
#   IMAGE=registry.lab/e911-harness:1 deploy/k8s/run.sh
set -euo pipefail
cd "$(dirname "$0")"
IMAGE=${IMAGE:-e911-harness:latest}
LEAD=${LEAD:-90}                       # seconds for every pod to be scheduled, pulled and connected
RUN=${RUN:-run-$(date -u +%Y%m%dT%H%M%SZ)}
START_AT=$(date -u -d "+${LEAD} seconds" +%Y-%m-%dT%H:%M:%SZ)

kubectl apply -f results-pvc.yaml
# The run's own values over config.yaml's, then the generators.
kubectl apply -f config.yaml
kubectl patch configmap e911-load --type merge -p "{\"data\":{\"START_AT\":\"$START_AT\",\"RUN\":\"$RUN\"}}"
kubectl delete job e911-load e911-load-merge --ignore-not-found
sed "s#image: e911-harness:latest#image: $IMAGE#" generators-job.yaml | kubectl apply -f -
echo "run $RUN: generators start at $START_AT"

# Waits until job $1 is Complete (0) or Failed (1), at most $2 seconds (1). `kubectl wait` for
# one condition would sit out its whole timeout on the other.
wait_job() {
    local end=$((SECONDS + $2)) state
    while ((SECONDS < end)); do
        state=$(kubectl get job "$1" -o jsonpath='{range .status.conditions[?(@.status=="True")]}{.type}{" "}{end}')
        case " $state " in
        *" Complete "*) return 0 ;;
        *" Failed "*) return 1 ;;
        esac
        sleep 5
    done
    echo "job $1 still running after $2 s" >&2
    return 1
}

wait_job e911-load 7200 || {
    echo "a generator exited non-zero (an SLO failed, or it could not run); merging what there is (merge.shards says which shard is missing)" >&2
}
sed "s#image: e911-harness:latest#image: $IMAGE#" merge-job.yaml | kubectl apply -f -
wait_job e911-load-merge 600 || true
kubectl logs job/e911-load-merge
