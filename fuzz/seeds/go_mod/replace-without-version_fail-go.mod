module example.com/app

go 1.21

require example.com/old v1.0.0

replace example.com/old => example.com/new
