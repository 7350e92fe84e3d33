#!/bin/sh
# calc: a one-line calculator, the example app.
expr "$@"
