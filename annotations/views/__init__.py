"""HTML views, one module per screen. Views stay thin: parse, call a service
or selector, render."""
