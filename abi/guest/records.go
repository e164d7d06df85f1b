package guest

import (
	"fmt"
	"math"

	"github.com/nichost/nichost/abi"
)

// The handshake's fixed records, written and read by hand with the SDK's
// codec: the same keys as the cbor tags of abi.Description and
// abi.StartInfo, optional fields left out when empty as omitempty does, so
// the bytes are those abi.MarshalStruct writes.

// encodeDescription encodes d for nic_describe's reply.
func encodeDescription(d abi.Description) ([]byte, error) {
	m := map[string]any{
		"abi":        int64(d.ABI),
		"class":      d.Class,
		"name":       d.Name,
		"interfaces": d.Interfaces,
	}
	if d.Version != "" {
		m["version"] = d.Version
	}
	if len(d.Buses) > 0 {
		buses := make([]any, len(d.Buses))
		for i, b := range d.Buses {
			need := map[string]any{"name": b.Name, "kind": string(b.Kind)}
			if b.Optional {
				need["optional"] = true
			}
			buses[i] = need
		}
		m["buses"] = buses
	}
	if len(d.Features) > 0 {
		m["features"] = d.Features
	}
	return encodeValue(m)
}

// decodeStartInfo reads nic_start's argument. Keys it does not know are
// skipped, so that a newer host may add some; a known key with a value of
// the wrong type is an error naming it.
func decodeStartInfo(b []byte) (abi.StartInfo, error) {
	var info abi.StartInfo
	v, err := decodeValue(b)
	if err != nil {
		return info, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return info, startInfoError("", "dict", v)
	}
	for k, v := range m {
		switch k {
		case "buses":
			info.Buses, err = handles(v)
		case "interfaces":
			info.Interfaces, err = interfaces(v)
		case "options":
			if info.Options, ok = v.(map[string]any); !ok {
				err = startInfoError(k, "dict", v)
			}
		case "hostname":
			info.Hostname, err = str(k, v)
		case "country":
			info.Country, err = str(k, v)
		case "phy_mode":
			var n int64
			if n, ok = v.(int64); !ok || n < math.MinInt32 || n > math.MaxInt32 {
				err = startInfoError(k, "int", v)
			}
			info.PhyMode = int(n)
		case "features":
			info.Features, err = strs(k, v)
		case "resume":
			info.Resume, err = resumeInfo(v)
		}
		if err != nil {
			return abi.StartInfo{}, err
		}
	}
	return info, nil
}

// resumeInfo reads "resume": the reason, and the state if any.
func resumeInfo(v any) (*abi.Resume, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, startInfoError("resume", "dict", v)
	}
	r := &abi.Resume{}
	var err error
	if r.Reason, err = str("resume.reason", m["reason"]); err != nil {
		return nil, err
	}
	if s, ok := m["state"]; ok {
		if r.State, ok = s.([]byte); !ok {
			return nil, startInfoError("resume.state", "bytes", s)
		}
	}
	return r, nil
}

func startInfoError(key, want string, got any) error {
	if key == "" {
		return fmt.Errorf("%w: start info: expected %s, got %s", abi.ErrEncoding, want, abi.TypeName(got))
	}
	return fmt.Errorf("%w: start info: %s: expected %s, got %s", abi.ErrEncoding, key, want, abi.TypeName(got))
}

func str(key string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", startInfoError(key, "str", v)
	}
	return s, nil
}

func strs(key string, v any) ([]string, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, startInfoError(key, "list", v)
	}
	out := make([]string, len(l))
	for i, e := range l {
		var err error
		if out[i], err = str(fmt.Sprintf("%s[%d]", key, i), e); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// handles reads "buses": bus name -> handle.
func handles(v any) (map[string]uint32, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, startInfoError("buses", "dict", v)
	}
	out := make(map[string]uint32, len(m))
	for name, h := range m {
		n, ok := h.(int64)
		if !ok || n < 0 || n > math.MaxUint32 {
			return nil, startInfoError("buses."+name, "a handle (int)", h)
		}
		out[name] = uint32(n)
	}
	return out, nil
}

// interfaces reads "interfaces": per index, its name and MAC address.
func interfaces(v any) ([]abi.InterfaceInfo, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, startInfoError("interfaces", "list", v)
	}
	out := make([]abi.InterfaceInfo, len(l))
	for i, e := range l {
		at := fmt.Sprintf("interfaces[%d]", i)
		m, ok := e.(map[string]any)
		if !ok {
			return nil, startInfoError(at, "dict", e)
		}
		var err error
		if out[i].Name, err = str(at+".name", m["name"]); err != nil {
			return nil, err
		}
		if out[i].MAC, ok = m["mac"].([]byte); !ok {
			return nil, startInfoError(at+".mac", "bytes", m["mac"])
		}
	}
	return out, nil
}
