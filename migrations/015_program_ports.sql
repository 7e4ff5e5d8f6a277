-- Schema version 15: which ports each program holds whenever it runs. Per program identity
-- (process name, executable, user), the learnable rounds (normal, or approved by the user) in
-- which it held any listening or bound socket, and per (program, port) those of them in which it
-- held that port. A program still running without a port it held in every such round (syncthing
-- up, its sync port gone; nginx serving 80 but no longer 443) is a vanished port the model cannot
-- see: the model predicts each cell from the rounds before, so it is surprised by the first round
-- of an absence only. Counted from this version on (both from the same rounds, so the ratio is
-- true); rounds whose sockets the cleanup already removed cannot be counted again.
CREATE TABLE program_rounds (
  process_id INTEGER PRIMARY KEY REFERENCES processes (id),
  rounds     INTEGER NOT NULL CHECK (rounds >= 1)
);
CREATE TABLE program_ports (
  process_id INTEGER NOT NULL REFERENCES processes (id),
  port_id    INTEGER NOT NULL REFERENCES ports (id),
  rounds     INTEGER NOT NULL CHECK (rounds >= 1),
  PRIMARY KEY (process_id, port_id)
) WITHOUT ROWID;
