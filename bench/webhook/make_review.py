"""Writes the AdmissionReview the webhook benchmark sends: a typical Deployment pod (two
containers, probes, env, volumes, owner reference), about 5 KB of JSON."""
import json
import sys

env = [{"name": f"SETTING_{i}", "value": f"value-{i}-" + "x" * 24} for i in range(24)]
container = {
    "name": "checkout", "image": "registry.example/shop/checkout:1.4.2",
    "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
    "env": env,
    "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
    "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 5},
    "livenessProbe": {"httpGet": {"path": "/live", "port": 8080}, "periodSeconds": 10},
    "volumeMounts": [{"name": "config", "mountPath": "/etc/checkout"}, {"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": True}],
}
pod = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {
        "generateName": "checkout-7d9f8b6c4-",
        "labels": {"app": "checkout", "app.kubernetes.io/version": "1.4.2", "pod-template-hash": "7d9f8b6c4", "team": "payments"},
        "annotations": {"kprof.dev/inject": "true", "prometheus.io/scrape": "true", "prometheus.io/port": "8080"},
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "checkout-7d9f8b6c4", "uid": "0f7c1a52-8f5e-4e51-9d7a-6b3c2f1e0a9d", "controller": True, "blockOwnerDeletion": True}],
    },
    "spec": {
        "containers": [container, {"name": "log-shipper", "image": "registry.example/infra/shipper:3.1", "args": ["--input=/var/log/app"], "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}}}],
        "volumes": [{"name": "config", "configMap": {"name": "checkout-config"}},
                    {"name": "kube-api-access", "projected": {"sources": [{"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}]}}],
        "serviceAccountName": "checkout", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}],
    },
}
review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
          "request": {"uid": "705ab4f5-6393-11e8-b7cc-42010a800002", "kind": {"group": "", "version": "v1", "kind": "Pod"},
                      "resource": {"group": "", "version": "v1", "resource": "pods"}, "namespace": "shop", "operation": "CREATE",
                      "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller"}, "object": pod, "dryRun": False}}
json.dump(review, open(sys.argv[1], "w"))
