// SPDX-License-Identifier: GPL-2.0
/*
 * test_pod.c - a followed namespace's pod and container (agent/core/pod.c,
 * agent/sys/pods.c): every cgroup layout the kubelet and the container
 * engines make (systemd and cgroupfs drivers, each QoS class, containerd,
 * CRI-O, Docker, Podman, kind's nested slices), hostile paths (a
 * container's own cgroups under its scope, a pod level outside kubepods,
 * bytes that are not hex, over-long ids, control bytes, invalid UTF-8),
 * and the pods' log directory names, read from a directory made here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "pod.h"
#include "pods.h"
#include "tap.h"

#define UID	"0b7a9c4e-5f1d-4c1a-9e8b-2a3c4d5e6f70"
#define UID_	"0b7a9c4e_5f1d_4c1a_9e8b_2a3c4d5e6f70"
#define CID	"3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a"

/* The parse of @path: "rc uid container_id". */
static const char *parse(const char *path)
{
	static char out[256];
	struct sa_pod_id id;
	int rc = sa_pod_parse_cgroup(path, &id);

	snprintf(out, sizeof(out), "%d %s %s", rc, id.uid[0] ? id.uid : "-",
		 id.container_id[0] ? id.container_id : "-");
	return out;
}

#define POD(path, what)	is_str(parse(path), "0 " UID " " CID, what)
#define NONE(path, what) is_str(parse(path), "-2 - -", what)

static void layouts(void)
{
	POD("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
	    ".slice/cri-containerd-" CID ".scope", "systemd, BestEffort, containerd");
	POD("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	    ".slice/crio-" CID ".scope", "systemd, Burstable, CRI-O");
	POD("/kubepods.slice/kubepods-pod" UID_ ".slice/docker-" CID ".scope",
	    "systemd, Guaranteed (no QoS level), Docker");
	POD("/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
	    "kubelet-kubepods-besteffort-pod" UID_ ".slice/cri-containerd-" CID ".scope",
	    "systemd, kind's kubelet.slice nesting");
	POD("/system.slice/docker-" CID ".scope/kubelet.slice/kubelet-kubepods.slice/"
	    "kubelet-kubepods-pod" UID_ ".slice/cri-containerd-" CID ".scope",
	    "a node that is itself a container: the pod, not the node's container");
	POD("/kubepods/besteffort/pod" UID "/" CID, "cgroupfs, BestEffort");
	POD("/kubepods/burstable/pod" UID "/" CID, "cgroupfs, Burstable");
	POD("/kubepods/pod" UID "/" CID, "cgroupfs, Guaranteed");
	POD("/kubepods/pod" UID "/crio-" CID, "cgroupfs, CRI-O's crio-<id>");
	POD("/kubepods/besteffort/pod" UID "/" CID "/\n", "a level below the container's is not read");
	is_str(parse("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_ ".slice"),
	       "0 " UID " -", "the pod's own slice: its uid, no container");
	is_str(parse("/kubepods/burstable/pod" UID), "0 " UID " -", "cgroupfs: the pod's level");
	is_str(parse("/kubepods.slice/kubepods-pod" UID_ ".slice/crio-conmon-" CID ".scope"),
	       "0 " UID " -", "CRI-O's conmon scope: the pod, not a container");
	is_str(parse("/kubepods/pod0123456789abcdef0123456789abcdef/" CID),
	       "0 0123456789abcdef0123456789abcdef " CID, "a static pod's uid (32 hex digits)");
	is_str(parse("/system.slice/docker-" CID ".scope"), "1 - " CID, "Docker, no pod");
	is_str(parse("/machine.slice/libpod-" CID ".scope/container"), "1 - " CID,
	       "Podman, its inner level under the scope");
	is_str(parse("/docker/" CID), "1 - " CID, "Docker's cgroupfs driver");
	NONE("/", "the root cgroup");
	NONE("", "empty");
	NONE("/user.slice/user-1000.slice/session-2.scope", "a login session");
	NONE("/system.slice/ssh.service", "a service");
}

static void hostile(void)
{
	char *big = malloc(70000);

	/* A container that makes cgroups under its own cannot be another
	 * pod or container: the outermost pod counts, and its container is
	 * the level right under it. */
	is_str(parse("/kubepods/pod" UID "/" CID "/kubepods/pod11111111-2222-3333-4444-555555555555/"
		     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	       "0 " UID " " CID, "a pod layout under a container's: the outer pod's");
	is_str(parse("/kubepods/pod" UID "/x/" CID), "0 " UID " -",
	       "a container id not right under the pod: none");
	NONE("/evil/pod" UID "/" CID, "pod<uid> outside kubepods");
	NONE("/kubepods/guaranteed/pod" UID "/" CID, "a QoS level the kubelet never makes");
	NONE("/evil.slice/evil-pod" UID_ ".slice/cri-containerd-x.scope", "a pod slice outside kubepods");
	NONE("/kubepodsx.slice/kubepodsx-pod" UID_ ".slice", "kubepods as part of a word");
	NONE("/kubepods.slice/kubepods-besteffort-pod" UID_ ".slice",
	     "a slice that is not its parent's name plus -pod<uid>");
	NONE("/kubepods.slice/kubepods-pod" UID ".slice", "systemd slice with '-' in the uid (systemd escapes it)");
	NONE("/kubepods/pod0b7a\x1b[2J/" CID, "a control sequence in the uid");
	NONE("/kubepods/pod0b7a\xff\xfe/" CID, "invalid UTF-8 in the uid");
	NONE("/kubepods/podABCDEF/" CID, "upper-case hex is not a uid the kubelet writes");
	NONE("/kubepods/pod" UID UID "/" CID, "a uid over 64 characters");
	is_str(parse("/kubepods/pod" UID "/" CID "0"), "0 " UID " -", "a container id of 65 hex digits: none");
	is_str(parse("/kubepods/pod" UID "/cri-containerd-3f2a\x1b[2J.scope"), "0 " UID " -",
	       "an escape sequence in a container id: none");
	is_str(parse("/kubepods/pod" UID "/0123456789a"), "0 " UID " -", "11 hex digits: too short for an id");
	NONE("/system.slice/docker-" CID "\xc2\x9b.scope", "a C1 control after the id");
	if (big) {
		/* A path longer than any buffer: read in place. */
		memset(big, 'a', 69999);
		big[69999] = '\0';
		NONE(big, "70 000 bytes with no '/'");
		for (int i = 0; i < 69999; i += 2)
			big[i] = '/';
		NONE(big, "35 000 levels");
		free(big);
	}
}

static void log_entries(void)
{
	char ns[SA_POD_NAMESPACE_MAX + 1], name[SA_POD_NAME_MAX + 1], e[600];

	is_int(sa_pod_log_entry("kube-system_coredns-5d78c9869d-abcde_" UID, UID, ns, sizeof(ns),
				name, sizeof(name)), 0, "<namespace>_<name>_<uid>");
	is_str(ns, "kube-system", "... its namespace");
	is_str(name, "coredns-5d78c9869d-abcde", "... its name");
	is_int(sa_pod_log_entry("default_web_11111111-2222-3333-4444-555555555555", UID, ns, sizeof(ns),
				name, sizeof(name)), -ENOENT, "another pod's");
	is_int(sa_pod_log_entry("default_web_x" UID, UID, ns, sizeof(ns), name, sizeof(name)), -ENOENT,
	       "the uid not after a '_'");
	is_int(sa_pod_log_entry("defaultweb_" UID, UID, ns, sizeof(ns), name, sizeof(name)), -ENOENT,
	       "no namespace and name");
	is_int(sa_pod_log_entry("_web_" UID, UID, ns, sizeof(ns), name, sizeof(name)), -ENOENT,
	       "an empty namespace");
	is_int(sa_pod_log_entry("default__" UID, UID, ns, sizeof(ns), name, sizeof(name)), -ENOENT,
	       "an empty name");
	is_int(sa_pod_log_entry("ns_a_b_" UID, UID, ns, sizeof(ns), name, sizeof(name)), 0,
	       "a '_' in the name (never the kubelet's): the first ends the namespace");
	is_str(name, "a_b", "... the rest is the name, as it is");
	is_int(sa_pod_log_entry("n\x1b[2J\xff_p\x07\n\xc2\x9b_" UID, UID, ns, sizeof(ns), name,
				sizeof(name)), 0, "control bytes and invalid UTF-8: names are data");
	is_str(ns, "n\x1b[2J\xff", "... the namespace's bytes as they are (escaped where shown)");
	is_str(name, "p\x07\n\xc2\x9b", "... the name's");
	snprintf(e, sizeof(e), "%064d_p_%s", 0, UID);
	is_int(sa_pod_log_entry(e, UID, ns, sizeof(ns), name, sizeof(name)), -ENOENT,
	       "a namespace of 64 bytes: longer than a DNS label, not the kubelet's");
	snprintf(e, sizeof(e), "n_%0254d_%s", 0, UID);
	is_int(sa_pod_log_entry(e, UID, ns, sizeof(ns), name, sizeof(name)), -ENOENT,
	       "a name of 254 bytes: longer than a DNS subdomain");
	snprintf(e, sizeof(e), "%063d_%0253d_%s", 0, 0, UID);
	is_int(sa_pod_log_entry(e, UID, ns, sizeof(ns), name, sizeof(name)), 0,
	       "63 and 253 bytes: the longest the kubelet makes");
	is_int(sa_pod_log_entry("default_web_" UID, "", ns, sizeof(ns), name, sizeof(name)), -ENOENT,
	       "no uid: no match");
}

/* The files: a /proc/PID/cgroup of a hybrid host, a log directory. */
static void files(void)
{
	char dir[] = "/tmp/sa-unit-pods.XXXXXX", path[600], ns[SA_POD_NAMESPACE_MAX + 1];
	char name[SA_POD_NAME_MAX + 1];
	struct sa_pod_id id;
	FILE *f;

	if (!ok(mkdtemp(dir) != NULL, "a temporary directory"))
		return;
	snprintf(path, sizeof(path), "%s/cgroup", dir);
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "12:pids:/kubepods/besteffort/pod11111111-2222-3333-4444-555555555555/%s\n"
			"1:name=systemd:/\n0::/kubepods.slice/kubepods-besteffort.slice/"
			"kubepods-besteffort-pod%s.slice/cri-containerd-%s.scope\n", CID, UID_, CID);
		fclose(f);
	}
	is_int(sa_pod_read_cgroup(path, &id), 0, "a hybrid host's /proc/PID/cgroup: a pod");
	is_str(id.uid, UID, "... cgroup v2's line, not v1's");
	is_str(id.container_id, CID, "... its container");
	f = fopen(path, "w");
	if (f) {
		fputs("12:pids:/kubepods/pod" UID "/" CID "\n", f);
		fclose(f);
	}
	is_int(sa_pod_read_cgroup(path, &id), -ENOENT, "no cgroup v2 line: none");
	unlink(path);
	is_int(sa_pod_read_cgroup(path, &id), -ENOENT, "no file: -ENOENT");

	snprintf(path, sizeof(path), "%s/default_other_11111111-2222-3333-4444-555555555555", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/shop_web-0_%s", dir, UID);
	mkdir(path, 0755);
	is_int(sa_pod_names(dir, UID, ns, sizeof(ns), name, sizeof(name)), 0,
	       "the pod's log directory among others");
	is_str(ns, "shop", "... its namespace");
	is_str(name, "web-0", "... its name");
	is_int(sa_pod_names(dir, "22222222-2222-3333-4444-555555555555", ns, sizeof(ns), name,
			    sizeof(name)), -ENOENT, "a pod with no directory: -ENOENT");
	rmdir(path);
	snprintf(path, sizeof(path), "%s/default_other_11111111-2222-3333-4444-555555555555", dir);
	rmdir(path);
	rmdir(dir);
	is_int(sa_pod_names(dir, UID, ns, sizeof(ns), name, sizeof(name)), -ENOENT,
	       "no directory (not mounted): -ENOENT");
}

void suite_pod(void)
{
	layouts();
	hostile();
	log_entries();
	files();
}
