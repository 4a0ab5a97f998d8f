"""The office's bank as the demo and the tests play it: what it sends back for a bulk-transfer file. Outside
berdaya.cli so that processes without eventlet (the browser tests) can import it."""
