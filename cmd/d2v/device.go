package main

import (
	"fmt"

	"github.com/d2v/d2v/pkg/train"
)

// checkDevice validates --device before any work starts: an unknown name,
// or cuda in a binary built without it, is a usage error (exit 2).
func checkDevice(name string) error {
	switch name {
	case train.DeviceCPU, train.DeviceEmu:
		return nil
	case train.DeviceCUDA:
		if !train.HaveCUDA {
			return usageError{train.ErrNoCUDA}
		}
		return nil
	}
	return usageError{fmt.Errorf("--device: unknown %q (want cpu, cuda or emu)", name)}
}
