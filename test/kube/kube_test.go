package kube

import "testing"

// TestKubernetes runs the scenarios on the one node, in this order: each starts its pods and
// deletes them before the next. The one that switches the node to another pause image goes last,
// so the kubelet's reconnection to the restarted containerd (a pod tried too early waits out a
// 10 s back-off) delays no figure of the others. `-run 'TestKubernetes/Services'` runs one.
func TestKubernetes(t *testing.T) {
	needNode(t)
	for _, s := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"SingleProgram", testSingleProgram},                                               // scenario 1
		{"Services", testServices},                                                         // 2 and 3
		{"SharedProcessNamespace", testSharedProcessNamespace},                             // 4 and 5
		{"NativeSidecar", testNativeSidecar},                                               // 6
		{"CrashLoop", testCrashLoop},                                                       // 7
		{"SharedProcessNamespaceCatatonitPause", testSharedProcessNamespaceCatatonitPause}, // 5, the peer
	} {
		if !t.Run(s.name, s.run) && node.err != nil {
			t.Fatalf("the node is broken: %v", node.err)
		}
	}
}
