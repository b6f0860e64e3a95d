#!/usr/bin/env node
// The `switchboard` command: runs the built CLI (`npm install` builds it).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
