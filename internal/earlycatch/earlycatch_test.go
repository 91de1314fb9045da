package earlycatch

import (
	"testing"

	"github.com/uno-init/uno/internal/privs"
)

func TestShimNameIsPrivs(t *testing.T) {
	if shimName != privs.ShimName {
		t.Fatalf("shimName = %q, privs.ShimName = %q", shimName, privs.ShimName)
	}
}
