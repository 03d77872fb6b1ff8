package kafkasink_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/emitter/kafkasink"
)

// topic is the tests' topic.
const topic = "store-events"

// newCluster starts an in-process kfake cluster (loopback) with topic in
// partitions partitions.
func newCluster(t testing.TB, partitions int32, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(partitions, topic)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// newClient returns a franz-go client of the brokers at addrs.
func newClient(t testing.TB, addrs []string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addrs...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// newSink returns a sink producing to topic through a new client.
func newSink(t testing.TB, addrs []string, opts ...kgo.Opt) *kafkasink.Sink {
	t.Helper()
	s, err := kafkasink.New(newClient(t, addrs, opts...), topic)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// endOffsets returns the end offset of each partition of topic.
func endOffsets(t testing.TB, cl *kgo.Client, partitions int32) map[int32]int64 {
	t.Helper()
	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	for p := range partitions {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition = p
		rp.Timestamp = -1 // latest
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
				t.Fatalf("list offsets of partition %d: %v", rp.Partition, err)
			}
			out[rp.Partition] = rp.Offset
		}
	}
	return out
}

// readTopic reads every record of topic (all partitions, from the start),
// in offset order per partition.
func readTopic(t testing.TB, addrs []string, partitions int32) []*kgo.Record {
	t.Helper()
	cl := newClient(t, addrs, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	end := endOffsets(t, cl, partitions)
	want := 0
	for _, o := range end {
		want += int(o)
	}
	var out []*kgo.Record
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for len(out) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records: %v", len(out), want, ctx.Err())
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		out = append(out, fs.Records()...)
	}
	return out
}

// header returns the value of a record's header key ("" if absent).
func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// wireEvent is what the tests read of a record's value.
type wireEvent struct {
	Type     string          `json:"type"`
	ID       string          `json:"id"`
	TS       time.Time       `json:"ts"`
	Bookmark string          `json:"bookmark"`
	DocID    string          `json:"docId"`
	N        *int            `json:"n"`
	Doc      json.RawMessage `json:"doc"`
	DO       struct {
		ID string `json:"id"`
	} `json:"do"`
}

// decoded is one record with its value decoded, after checking that its
// key, headers and timestamp agree with the value.
type decoded struct {
	rec *kgo.Record
	ev  wireEvent
}

// decodeAll decodes every record, checking key = do.id, the id and type
// headers and the timestamp.
func decodeAll(t testing.TB, recs []*kgo.Record) []decoded {
	t.Helper()
	out := make([]decoded, 0, len(recs))
	for _, r := range recs {
		var ev wireEvent
		if err := json.Unmarshal(r.Value, &ev); err != nil {
			t.Fatalf("record value %s: %v", r.Value, err)
		}
		if string(r.Key) != ev.DO.ID || ev.DO.ID == "" {
			t.Fatalf("record key %q, event of store %q", r.Key, ev.DO.ID)
		}
		if header(r, kafkasink.HeaderID) != ev.ID || ev.ID == "" || header(r, kafkasink.HeaderType) != ev.Type {
			t.Fatalf("headers %v of event %s %s", r.Headers, ev.ID, ev.Type)
		}
		if !r.Timestamp.Equal(ev.TS.Truncate(time.Millisecond)) {
			t.Fatalf("record time %s, event time %s", r.Timestamp, ev.TS)
		}
		out = append(out, decoded{r, ev})
	}
	return out
}

type user struct {
	Name string `json:"name"`
	Age  int    `json:"age"`
}

func openStoreAt(t testing.TB, path string) *cdc.Store {
	t.Helper()
	s, err := cdc.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openStore(t testing.TB) *cdc.Store {
	t.Helper()
	return openStoreAt(t, filepath.Join(t.TempDir(), "store.db"))
}

func newUsers(t testing.TB, s *cdc.Store) *cdc.Collection[user] {
	t.Helper()
	c, err := cdc.NewCollection[user](s, "users")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// discardLogger drops logs (tests that provoke failures on purpose).
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
