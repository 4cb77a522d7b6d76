package comfyui

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// What ComfyUI does, from comfyanonymous/ComfyUI (server.py, execution.py):
//
//	@routes.get("/queue"): queue_info['queue_running'] = current_queue[0];
//	    queue_info['queue_pending'] = current_queue[1]  — each item is the
//	    tuple put by POST /prompt: (number, prompt_id, prompt, extra_data, outputs_to_execute)
//	@routes.get("/history/{prompt_id}"): prompt_queue.get_history(prompt_id=...),
//	    which returns {} when the id is not in the history
//	@routes.post("/queue"): "clear" -> wipe_queue() (pending only);
//	    "delete" -> delete_queue_item for each id (pending only)
//	@routes.post("/interrupt"): nodes.interrupt_processing() (the running prompt)
//	PromptQueue.get() moves an item from the queue to currently_running, and
//	task_done() pops it from currently_running and writes the history entry,
//	each under the queue's mutex; the queue and the history are in memory.
const queueReply = `{"queue_running": [[7, "run-id", {"3": {"class_type": "KSampler", "inputs": {}}}, {"client_id": "i-1"}, ["9"]]],
 "queue_pending": [[8, "pend-a", {}, {}, ["9"]], [9, "pend-b", {}, {}, ["9"]]]}`

func TestQueueReadsPromptIDsFromServerPyShape(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/queue" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(queueReply))
	}))
	defer srv.Close()
	q, err := (&Client{BaseURL: srv.URL, HTTP: srv.Client()}).Queue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Running) != 1 || q.Running[0] != "run-id" || len(q.Pending) != 2 || q.Pending[1] != "pend-b" || !q.Has("pend-a") || q.Has("other") || q.Empty() {
		t.Fatalf("queue %+v", q)
	}
}

// history answers {} and then, from the given call on, the finished entry.
func comfyWithHistory(t *testing.T, queue func(n int) string, doneFrom int) (*Client, *atomic.Int32) {
	t.Helper()
	var historyCalls atomic.Int32
	var queueCalls atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /history/{id}", func(w http.ResponseWriter, r *http.Request) {
		n := int(historyCalls.Add(1))
		if doneFrom > 0 && n >= doneFrom {
			_, _ = w.Write([]byte(`{"p1": {"status": {"status_str": "success", "completed": true, "messages": []},
				"outputs": {"9": {"images": [{"filename": "a.png", "subfolder": "", "type": "output"}]}}}}`))
			return
		}
		_, _ = w.Write([]byte(`{}`))
	})
	mux.HandleFunc("GET /queue", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(queue(int(queueCalls.Add(1)))))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &Client{BaseURL: srv.URL, HTTP: srv.Client()}, &historyCalls
}

const (
	runningP1 = `{"queue_running": [[1, "p1", {}, {}, ["9"]]], "queue_pending": []}`
	emptyQ    = `{"queue_running": [], "queue_pending": []}`
)

func TestWaitDoneTellsARestartFromARunningOrJustFinishedPrompt(t *testing.T) {
	ctx := context.Background()
	t.Run("running, then done", func(t *testing.T) {
		c, _ := comfyWithHistory(t, func(int) string { return runningP1 }, 4)
		outs, err := c.WaitDone(ctx, "p1", time.Millisecond, time.Second)
		if err != nil || outs["9"][0].Filename != "a.png" {
			t.Fatalf("outs %v err %v", outs, err)
		}
	})
	t.Run("finished between the history and the queue read", func(t *testing.T) {
		// history {} -> queue no longer has it -> history again has it.
		c, _ := comfyWithHistory(t, func(int) string { return emptyQ }, 2)
		if outs, err := c.WaitDone(ctx, "p1", time.Millisecond, time.Second); err != nil || len(outs["9"]) != 1 {
			t.Fatalf("a prompt that just finished was taken for lost: %v %v", outs, err)
		}
	})
	t.Run("restart: in neither", func(t *testing.T) {
		c, _ := comfyWithHistory(t, func(n int) string {
			if n < 3 {
				return runningP1
			}
			return emptyQ // ComfyUI came back empty
		}, 0)
		_, err := c.WaitDone(ctx, "p1", time.Millisecond, time.Second)
		if !errors.Is(err, ErrPromptLost) {
			t.Fatalf("err %v, want ErrPromptLost", err)
		}
	})
}

func TestWaitDoneGivesUpOnAComfyUIThatDoesNotAnswer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // connection refused from now on
	c := &Client{BaseURL: url, HTTP: &http.Client{}}
	start := time.Now()
	_, err := c.WaitDone(context.Background(), "p1", 5*time.Millisecond, 50*time.Millisecond)
	if !errors.Is(err, ErrUnreachable) || time.Since(start) < 50*time.Millisecond {
		t.Fatalf("err %v after %v, want ErrUnreachable after the bound", err, time.Since(start))
	}
}

func TestClearQueueClearsPendingBeforeInterrupting(t *testing.T) {
	var calls []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 64)
		n, _ := r.Body.Read(buf)
		calls = append(calls, r.Method+" "+r.URL.Path+" "+string(buf[:n]))
	}))
	defer srv.Close()
	if err := (&Client{BaseURL: srv.URL, HTTP: srv.Client()}).ClearQueue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 || calls[0] != `POST /queue {"clear":true}` || calls[1] != "POST /interrupt {}" {
		t.Fatalf("calls %q", calls)
	}
}
