<?php require __DIR__."/app/vendor/autoload.php";
