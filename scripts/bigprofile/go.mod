module bigprofile

go 1.22
