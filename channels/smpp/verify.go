package smpp

import (
	"errors"
	"fmt"

	"github.com/linxGnu/gosmpp"
	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"
)

// ErrBadCredentials: the SMSC refused the bind's system_id, password or system_type.
var ErrBadCredentials = errors.New("the SMSC refused the bind credentials: check INTAKE_SMPP_SYSTEM_ID, INTAKE_SMPP_PASSWORD and INTAKE_SMPP_SYSTEM_TYPE with the operator")

// bindRefusals are the bind_resp statuses that mean the credentials, not the network.
var bindRefusals = map[data.CommandStatusType]bool{
	data.ESME_RINVPASWD: true, data.ESME_RINVSYSID: true, data.ESME_RBINDFAIL: true, data.ESME_RINVSYSTYP: true,
}

// bindError says what a failed bind means: refused credentials (ErrBadCredentials) or an
// SMSC that could not be reached or refused for another reason.
func bindError(err error) error {
	var refused gosmpp.BindError
	if errors.As(err, &refused) && bindRefusals[refused.CommandStatus] {
		return fmt.Errorf("%w (%s)", ErrBadCredentials, refused.CommandStatus.Desc())
	}
	return fmt.Errorf("smpp: bind to the SMSC: %w", err)
}

// Verify binds once with b's credentials and unbinds: nil when the SMSC accepted them,
// an error wrapping ErrBadCredentials when it refused them, another error when it could
// not be reached.
func Verify(b Bind) error {
	c := &Channel{opts: Options{}.withDefaults()}
	b = Config{Binds: []Bind{b}}.All()[0]
	auth := gosmpp.Auth{SMSC: b.Addr, SystemID: b.SystemID, Password: b.Password.Reveal(), SystemType: b.SystemType}
	connector := gosmpp.TRXConnector(c.dialer(b.TLS), auth)
	if b.Bind == BindReceiver {
		connector = gosmpp.RXConnector(c.dialer(b.TLS), auth)
	}
	conn, err := connector.Connect()
	if err != nil {
		return bindError(err)
	}
	_, _ = conn.WritePDU(pdu.NewUnbind())
	return conn.Close()
}
