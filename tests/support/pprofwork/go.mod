module pprofspec

go 1.22
