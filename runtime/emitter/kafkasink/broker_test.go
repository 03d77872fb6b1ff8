package kafkasink_test

import (
	"fmt"
	"io"
	"os"

	"github.com/twmb/franz-go/pkg/kfake"
)

// brokerChildEnv makes the test binary run only a kfake cluster holding
// topic (with the given number of partitions), print its address and
// serve until its stdin closes: a broker in a process of its own
// (sinkbench.StartChild starts it).
const brokerChildEnv = "KAFKASINK_BROKER_CHILD"

func brokerChild() {
	var parts int32 = 1
	fmt.Sscan(os.Getenv(brokerChildEnv), &parts)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(parts, topic))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	fmt.Println(c.ListenAddrs()[0])
	io.Copy(io.Discard, os.Stdin) // until the parent closes it or dies
	c.Close()
	os.Exit(0)
}
