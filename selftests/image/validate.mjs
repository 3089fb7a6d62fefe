// validate.mjs - Kubernetes manifests against the API's schemas, offline
// (selftests/image/manifests.t):
//   node validate.mjs < DOCS.json     (a JSON array of objects)
// Each object is checked twice: by its kind's model in kubernetes-models
// or @kubernetes-models/prometheus-operator (types, required fields,
// enums and formats: the OpenAPI schemas the API server validates with),
// and, for the built-in kinds, for field names the API does not know
// (the attribute maps of @kubernetes/client-node's models, generated from
// the same schemas): the API server drops an unknown field without a
// word, so a misspelt one (hostNetwrk) would be a setting silently lost.
// Prints one line per object, "ok KIND/NAME" or "invalid KIND/NAME:
// WHY"; exit 1 when any is invalid or of a kind not known here.
import { readFileSync } from "node:fs";
import * as client from "@kubernetes/client-node";
import * as core from "kubernetes-models/v1";
import * as apps from "kubernetes-models/apps/v1";
import * as mon from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";

const models = {
	"v1/Namespace": [core.Namespace, client.V1Namespace],
	"v1/ConfigMap": [core.ConfigMap, client.V1ConfigMap],
	"v1/Service": [core.Service, client.V1Service],
	"apps/v1/DaemonSet": [apps.DaemonSet, client.V1DaemonSet],
	"monitoring.coreos.com/v1/PodMonitor": [mon.PodMonitor, null],
	"monitoring.coreos.com/v1/ServiceMonitor": [mon.ServiceMonitor, null],
};

// unknown(VALUE, TYPE, PATH): the paths of fields TYPE does not have.
function unknown(v, type, path) {
	if (v === null || v === undefined)
		return [];
	let m = /^Array<(.*)>$/.exec(type);
	if (m)
		return Array.isArray(v) ? v.flatMap((x, i) => unknown(x, m[1], `${path}[${i}]`)) : [];
	m = /^\{ \[key: string\]: (.*); \}$/.exec(type);
	if (m)
		return Object.entries(v).flatMap(([k, x]) => unknown(x, m[1], `${path}.${k}`));
	const cls = client[type];
	if (!cls || typeof cls.getAttributeTypeMap !== "function" || typeof v !== "object")
		return [];
	const attrs = new Map(cls.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
	return Object.entries(v).flatMap(([k, x]) =>
		attrs.has(k) ? unknown(x, attrs.get(k), `${path}.${k}`) : [`${path}.${k}`]);
}

let bad = 0;
for (const doc of JSON.parse(readFileSync(0, "utf8"))) {
	const id = `${doc.kind}/${doc.metadata?.name}`;
	const known = models[`${doc.apiVersion}/${doc.kind}`];
	let why = known ? "" : `no schema here for ${doc.apiVersion} ${doc.kind}`;
	if (known) {
		try {
			new known[0](doc).validate();
		} catch (e) {
			why = e.message;
		}
		const extra = known[1] ? unknown(doc, known[1].name, "") : [];
		if (!why && extra.length)
			why = `fields the API does not know: ${extra.join(", ")}`;
	}
	console.log(why ? `invalid ${id}: ${why}` : `ok ${id}`);
	bad += why ? 1 : 0;
}
process.exit(bad ? 1 : 0);
