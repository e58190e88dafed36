const express = require('express');
const morgan = require('morgan');

const app = express();
app.use(morgan('combined'));
app.get('/healthz', (req, res) => res.send('ok'));
app.listen(process.env.PORT || 8080);
