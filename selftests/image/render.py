#!/usr/bin/env python3
"""What `kubectl apply -k DIR` would apply, as a JSON array, for
validate.mjs: DIR/kustomization.yaml's resources, each put in its
namespace and given its image tag.  Only the fields this project's
kustomization uses are known; any other fails (exit 1), as does a
resource file that is missing.  (Debian's kubectl, whose `kubectl
kustomize` renders offline, cannot be installed beside this machine's.)

  render.py DIR [FILE...]    FILE...: more manifests (swapped in by hand)
"""
import json
import os
import sys
import yaml

KNOWN = {"apiVersion", "kind", "namespace", "resources", "images"}
# Kinds that live in no namespace.
CLUSTER = {"Namespace", "ClusterRole", "ClusterRoleBinding"}


def main(d, extra):
    with open(os.path.join(d, "kustomization.yaml")) as f:
        k = yaml.safe_load(f)
    if k.get("kind") != "Kustomization" or set(k) - KNOWN:
        sys.exit(f"render.py: kustomization.yaml: fields not handled here: {sorted(set(k) - KNOWN)}")
    out = []
    for r in k["resources"]:
        with open(os.path.join(d, r)) as f:
            for doc in yaml.safe_load_all(f):
                if doc is None:
                    continue
                if k.get("namespace") and doc["kind"] not in CLUSTER:
                    doc["metadata"]["namespace"] = k["namespace"]
                if doc["kind"] == "Namespace" and k.get("namespace"):
                    if doc["metadata"]["name"] != k["namespace"]:
                        sys.exit(f"render.py: {r}: namespace {doc['metadata']['name']} is not {k['namespace']}")
                for c in doc.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
                    for i in k.get("images", []):
                        name, _, _ = c["image"].partition(":")
                        if name == i["name"]:
                            c["image"] = f"{i.get('newName', name)}:{i['newTag']}"
                out.append(doc)
    for e in extra:
        with open(e) as f:
            for doc in yaml.safe_load_all(f):
                if doc is not None:
                    if k.get("namespace") and doc["kind"] not in CLUSTER:
                        doc["metadata"]["namespace"] = k["namespace"]
                    out.append(doc)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    try:
        main(sys.argv[1], sys.argv[2:])
    except (OSError, KeyError, yaml.YAMLError) as e:
        sys.exit(f"render.py: {e}")
