package queue

import (
	"strings"
	"testing"
)

func TestNewRedisClientChoosesSentinelsByMasterName(t *testing.T) {
	c, label, err := NewRedisClient("redis://sent:spw@127.0.0.1:26379?master_name=lapor&addr=127.0.0.1:26380&addr=127.0.0.1:26381&password=rpw")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	o := c.Options()
	// go-redis marks a failover client by this pseudo address; its dialer asks the Sentinels.
	if o.Addr != "FailoverClient" || o.Password != "rpw" || label != "sentinel master lapor" {
		t.Fatalf("not a failover client for master lapor: addr=%q label=%q", o.Addr, label)
	}
	if o.MaxRetries > 0 || o.Protocol != 2 || o.ReadTimeout == 0 {
		t.Fatalf("the gateway's defaults were not applied: %+v", o)
	}

	c, label, err = NewRedisClient("redis://:pw@127.0.0.1:6390/2")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Options().Addr != "127.0.0.1:6390" || c.Options().DB != 2 || label != "127.0.0.1:6390" {
		t.Fatalf("plain URL: %+v %q", c.Options(), label)
	}
}

func TestNewRedisClientRefusesUnusableURLsWithoutEchoingThem(t *testing.T) {
	for _, u := range []string{
		"redis://u:secretpw@s1:26379?master_name=&addr=s2:26379",
		"redis://u:secretpw@s1:26379?master_name=m&replica_only=true",
		"redis://u:secretpw@s1:26379?master_name=m&route_randomly=true",
		"redis://u:secretpw@s1:26379?master_name=m&addr=nope",
		"redis://u:secretpw@s1:26379?master_name=m&bogus=1",
		"http://u:secretpw@host:6379",
	} {
		_, _, err := NewRedisClient(u)
		if err == nil {
			t.Errorf("%s: accepted", u)
			continue
		}
		if strings.Contains(err.Error(), "secretpw") || !strings.Contains(err.Error(), "INTAKE_REDIS_URL") {
			t.Errorf("%s: error must name the setting and not the password: %v", u, err)
		}
	}
}

func TestInstanceIDs(t *testing.T) {
	if err := validInstanceID(DefaultInstanceID()); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "a b", "a:b", strings.Repeat("x", 129)} {
		if validInstanceID(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
