#!/usr/bin/env node
// Committed shim: npm links a bin only if its target exists at install time.
import "../dist/main.js"
