package server

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

const (
	writeWait  = 10 * time.Second // time allowed to write one message
	sendBuffer = 256              // messages queued per client
)

// Hub keeps the connected WebSocket clients of the live dashboard: it
// broadcasts updates to all of them, and echoes what a client sends back to
// that client (the front end measures its round trip that way).
type Hub struct {
	upgrader websocket.Upgrader

	mu      sync.Mutex
	clients map[*client]struct{}

	hello atomic.Pointer[[]byte] // first message to every client

	connects   atomic.Int64 // connections accepted
	broadcasts atomic.Int64 // updates sent
}

type client struct {
	conn *websocket.Conn
	send chan []byte // messages for writeLoop to write
}

// NewHub returns a hub with no clients.
func NewHub() *Hub {
	return &Hub{
		upgrader: websocket.Upgrader{
			// Panels are large; big buffers write them in fewer syscalls.
			ReadBufferSize:  32 << 10,
			WriteBufferSize: 64 << 10,
		},
		clients: map[*client]struct{}{},
	}
}

// Clients returns the number of clients the hub holds.
func (h *Hub) Clients() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

// SetHello sets the message every new client gets first: the dashboard as
// it is, so that the page can render before the first update.
func (h *Hub) SetHello(msg []byte) { h.hello.Store(&msg) }

// Connects returns the number of connections accepted so far.
func (h *Hub) Connects() int64 { return h.connects.Load() }

// ServeHTTP upgrades the request to a WebSocket and serves the client until
// it goes away.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	conn, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has replied
	}
	h.connects.Add(1)
	c := &client{conn: conn, send: make(chan []byte, sendBuffer)}
	if hello := h.hello.Load(); hello != nil {
		c.send <- *hello
	}
	h.mu.Lock()
	h.clients[c] = struct{}{}
	h.mu.Unlock()

	go c.writeLoop()
	c.readLoop()
	conn.Close()
}

// readLoop queues every text message the client sends for writeLoop to
// echo, until the connection fails or closes.
func (c *client) readLoop() {
	for {
		kind, msg, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		if kind == websocket.TextMessage {
			c.send <- msg
		}
	}
}

// writeLoop writes the queued messages; it is the connection's only writer.
func (c *client) writeLoop() {
	for msg := range c.send {
		c.conn.SetWriteDeadline(time.Now().Add(writeWait))
		if err := c.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
			// A slow client may time out once; the next update can still
			// get through.
			continue
		}
	}
}

// Broadcast queues msg for every client; a client whose queue is full
// misses it.
func (h *Hub) Broadcast(msg []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		select {
		case c.send <- msg:
		default:
		}
	}
	h.broadcasts.Add(1)
}

// Run broadcasts the message update returns every interval until ctx is
// done.
func (h *Hub) Run(ctx context.Context, interval time.Duration, update func() []byte) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			h.Broadcast(update())
		}
	}
}

// Close disconnects every client.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		c.conn.Close()
	}
}
