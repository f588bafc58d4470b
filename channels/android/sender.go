package android

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// Sender sends SMS from the phone through its send API (SMS Gateway for Android): POST
// {INTAKE_ANDROID_SMS_API_URL}/message with basic auth. Receipts use it; the return path
// (answers to citizens, CONTRACT §7) can too. It is safe for concurrent use.
type Sender struct {
	endpoint, username, password string
	client                       *http.Client
	// legacy is set once the phone took the older body ({"message": …}) after refusing
	// the current one ({"textMessage": {"text": …}}): app versions before textMessage.
	legacy atomic.Bool
}

// NewSender returns the sender for cfg's send API; client nil means one with a 20 s timeout.
func NewSender(cfg Config, client *http.Client) (*Sender, error) {
	if cfg.APIURL == "" {
		return nil, errors.New("android: INTAKE_ANDROID_SMS_API_URL is not set: there is no send API to send through")
	}
	if client == nil {
		client = &http.Client{Timeout: 20 * time.Second}
	}
	return &Sender{endpoint: cfg.apiURL() + "/message", username: cfg.Username,
		password: cfg.Password.Reveal(), client: client}, nil
}

// Error classes of a failed send, as the delivery stream names them (CONTRACT §7).
const (
	ClassRetry     = "retry"
	ClassThrottle  = "throttle"
	ClassPermanent = "permanent"
	ClassConfig    = "config"
)

// SendError is a send the phone's API did not take. Class says what to do: retry later,
// slow down, give up, or fix the configuration.
type SendError struct {
	Status int // HTTP status; 0 when the API was not reached
	Class  string
	Detail string
	// Cause is the transport's error when no answer came (Status 0).
	Cause error
}

func (e *SendError) Unwrap() error { return e.Cause }

func (e *SendError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("android send API not reached (%s): %s", e.Class, e.Detail)
	}
	return fmt.Sprintf("android send API answered %d (%s): %s", e.Status, e.Class, e.Detail)
}

// statusClasses classifies the send API's answers; any other 4xx is permanent, any 5xx a retry.
var statusClasses = map[int]struct{ class, detail string }{
	http.StatusBadRequest:      {ClassPermanent, "the phone refused the message (number or text not valid)"},
	http.StatusUnauthorized:    {ClassConfig, "check INTAKE_ANDROID_SMS_USERNAME and INTAKE_ANDROID_SMS_PASSWORD against the app's Home tab"},
	http.StatusForbidden:       {ClassConfig, "check INTAKE_ANDROID_SMS_USERNAME and INTAKE_ANDROID_SMS_PASSWORD against the app's Home tab"},
	http.StatusNotFound:        {ClassConfig, "no send API at INTAKE_ANDROID_SMS_API_URL: give the base (http://phone:8080 or …/3rdparty/v1), without /message"},
	http.StatusTooManyRequests: {ClassThrottle, "the phone or its cloud limits sending; slow down"},
}

func classify(status int) *SendError {
	if c, ok := statusClasses[status]; ok {
		return &SendError{Status: status, Class: c.class, Detail: c.detail}
	}
	if status >= 500 {
		return &SendError{Status: status, Class: ClassRetry, Detail: "the phone or its cloud failed; try again later"}
	}
	return &SendError{Status: status, Class: ClassPermanent, Detail: "unexpected answer"}
}

// outgoing is the send API's request body. The current apps read textMessage; older ones
// read only message, which the current ones still take as a deprecated alias.
type outgoing struct {
	TextMessage  *textMessage `json:"textMessage,omitempty"`
	Message      string       `json:"message,omitempty"`
	PhoneNumbers []string     `json:"phoneNumbers"`
}

type textMessage struct {
	Text string `json:"text"`
}

// Send asks the phone to send text to the number to (E.164) and returns the phone's id of
// the outgoing message, by which its sms:sent/delivered/failed events name it. A failure
// is a *SendError.
func (s *Sender) Send(ctx context.Context, to, text string) (providerID string, err error) {
	legacy := s.legacy.Load()
	id, err := s.post(ctx, to, text, legacy)
	var se *SendError
	if !legacy && errors.As(err, &se) && se.Status == http.StatusBadRequest {
		// An app from before textMessage refuses the current body; try the older one once.
		id, lerr := s.post(ctx, to, text, true)
		if lerr == nil {
			s.legacy.Store(true)
			return id, nil
		}
		if !errors.As(lerr, &se) || se.Status != http.StatusBadRequest {
			return "", lerr // the second try's failure says more (it may even have been sent)
		}
	}
	return id, err
}

// post makes one request to the send API.
func (s *Sender) post(ctx context.Context, to, text string, legacy bool) (string, error) {
	body := outgoing{PhoneNumbers: []string{to}}
	if legacy {
		body.Message = text
	} else {
		body.TextMessage = &textMessage{Text: text}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return "", &SendError{Class: ClassPermanent, Detail: err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, bytes.NewReader(b))
	if err != nil {
		return "", &SendError{Class: ClassConfig, Detail: "INTAKE_ANDROID_SMS_API_URL does not make a request URL"}
	}
	req.SetBasicAuth(s.username, s.password)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		// The client strips any password from the URL in its errors.
		return "", &SendError{Class: ClassRetry, Detail: "is the phone online and the app's server on? " + err.Error(), Cause: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return "", classify(resp.StatusCode)
	}
	var state struct {
		ID string `json:"id"`
	}
	// The answer is the message's state; only its id matters here, and a body without one
	// still means the phone took the message.
	_ = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&state)
	return state.ID, nil
}
