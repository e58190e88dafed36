#!/bin/sh
echo "report at $(date)"
