package fourlw

import (
	"strings"
	"testing"

	"github.com/herd-io/herd/server/zoocfg"
)

func TestConfFromEnsembleConfig(t *testing.T) {
	cfg, err := zoocfg.Parse(strings.NewReader("tickTime=1000\ninitLimit=10\nsyncLimit=5\ndataDir=/d\n" +
		"clientPort=2201\nserver.1=127.0.0.1:2281:2291\nserver.2=[::1]:2282:2292:observer;2202\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MyID = 2
	got := lines(ConfFromConfig(cfg, 10, 20))
	want := "clientPort=2201\nsecureClientPort=-1\ndataDir=/d\ndataDirSize=10\ndataLogDir=/d\ndataLogSize=20\n" +
		"tickTime=1000\nmaxClientCnxns=60\nminSessionTimeout=2000\nmaxSessionTimeout=20000\n" +
		"clientPortListenBacklog=-1\nserverId=2\ninitLimit=10\nsyncLimit=5\nelectionAlg=3\nelectionPort=2292\n" +
		"quorumPort=2282\npeerType=1\nmembership: \nserver.1=127.0.0.1:2281:2291:participant\n" +
		"server.2=[::1]:2282:2292:observer;0.0.0.0:2202\nversion=0\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
