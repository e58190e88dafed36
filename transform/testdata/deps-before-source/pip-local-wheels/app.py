import greet
